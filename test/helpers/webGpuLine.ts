import assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';
import type { TestServer } from './testServer.js';

/**
 * The console's WebGPU line (hardware panel, first-run wizard) once the server's probe has
 * answered: the adapter when /api/system says available, else the reason. Under .ci/run
 * (CI_REQUIRE_WEBGPU=1, Mesa's software Vulkan installed) it must be that software device.
 */
export async function assertWebGpuLine(line: Locator, server: TestServer, prefix: string): Promise<void> {
  await line.filter({ hasNotText: 'checking' }).waitFor({ timeout: 20_000 });
  const text = await line.innerText();
  const { webgpu } = (await (await server.request('GET', '/api/system')).json()) as { webgpu: { available: boolean; reason: string | null; adapter: { name: string } | null } };
  if (process.env.CI_REQUIRE_WEBGPU === '1') assert.equal(webgpu.available, true, `CI installs a Vulkan driver, but: ${webgpu.reason}`);
  if (webgpu.available) {
    if (/llvmpipe/.test(webgpu.adapter!.name)) assert.match(text, new RegExp(`^${prefix}llvmpipe \\(LLVM [\\d.]+, \\d+ bits\\): software Vulkan device \\(Mesa, libvulkan_lvp\\.so\\), slower than the CPU$`));
    else assert.ok(text.startsWith(`${prefix}${webgpu.adapter!.name}`), text);
  } else {
    assert.equal(text, `${prefix}unavailable: ${webgpu.reason}`);
  }
}
