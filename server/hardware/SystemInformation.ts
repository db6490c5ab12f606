import type { Systeminformation } from 'systeminformation';

/**
 * The part of systeminformation the probe reads, narrowed to the fields it uses so tests can
 * fake it with small objects. The systeminformation module itself satisfies this interface.
 */
export interface SystemInformation {
  cpu(): Promise<Pick<Systeminformation.CpuData, 'manufacturer' | 'brand' | 'vendor' | 'physicalCores' | 'cores' | 'speed'>>;
  cpuFlags(): Promise<string>;
  mem(): Promise<Pick<Systeminformation.MemData, 'total' | 'available'>>;
  graphics(): Promise<{ controllers: GraphicsController[] }>;
  osInfo(): Promise<Pick<Systeminformation.OsData, 'distro' | 'release'>>;
}

export type GraphicsController = Pick<Systeminformation.GraphicsControllerData, 'vendor' | 'model' | 'name' | 'vram' | 'bus'>;

export type SystemInformationCall = keyof SystemInformation;
