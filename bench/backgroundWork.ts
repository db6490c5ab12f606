/**
 * Waits until the appliance's background work on a model's version 1 is over, so a benchmark
 * measures serving and not that: its int8 job, the WebGPU probe (a child process) and, when WebGPU
 * is available, its placement measurement (another child process, started by a start or an
 * upload; on this machine's software device, PaddleOCR's classifier keeps both cores busy for
 * seconds). A server that has none of these (an older commit in bench:compare) answers 404 or
 * omits the field: nothing to wait for.
 */
export async function waitForBackgroundWork(get: (path: string) => Promise<{ status: number; text: string }>, model = 'mlp', timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  const json = async (path: string): Promise<Record<string, unknown> | null> => {
    const answer = await get(path);
    return answer.status === 200 ? (JSON.parse(answer.text) as Record<string, unknown>) : null;
  };
  const settled = async (): Promise<boolean> => {
    const quantization = await json(`/api/models/${model}/versions/1/quantization`);
    if (quantization && ['queued', 'running'].includes(String(quantization.status))) return false;
    const webgpu = (await json('/api/system'))?.webgpu as { checking?: boolean; available?: boolean } | undefined;
    if (webgpu?.checking) return false;
    if (!webgpu?.available) return true;
    const placement = await json(`/api/models/${model}/versions/1/placement`);
    return placement === null || placement.decided_at !== null;
  };
  while (!(await settled())) {
    if (Date.now() > until) throw new Error(`the appliance's start-up work did not finish in ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
