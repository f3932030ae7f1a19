import fs from 'node:fs';
import { initBackend, type BackendChoice } from '../../../core/model/backend';

/**
 * The webgpu tests run on SwiftShader, the CPU Vulkan driver Debian's chromium ships (CI installs
 * chromium and libvulkan1): no GPU needed, correct but slow. A real Vulkan driver named by
 * VK_ICD_FILENAMES is used instead when set.
 */
const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

export function pointVulkanAtSwiftShader(): string | null {
  if (process.env.VK_ICD_FILENAMES) return null;
  const icd = SWIFTSHADER_ICDS.find((f) => fs.existsSync(f));
  if (!icd) return `no SwiftShader Vulkan driver (${SWIFTSHADER_ICDS.join(' or ')}; apt-get install chromium libvulkan1)`;
  // Read by the Vulkan loader when Dawn creates its instance, i.e. after this line.
  process.env.VK_ICD_FILENAMES = icd;
  return null;
}

/** Forces webgpu (software adapters allowed); resolves to the choice, or to why it is unavailable. */
export async function webgpuOrReason(): Promise<BackendChoice | string> {
  const missing = pointVulkanAtSwiftShader();
  if (missing) return missing;
  try {
    return await initBackend({ force: 'webgpu' });
  } catch (err) {
    return (err as Error).message;
  }
}
