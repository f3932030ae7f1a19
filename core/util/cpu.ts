/** What the CPU can do, read from /proc/cpuinfo, and the OpenBLAS core type that uses it. */

export function cpuFlags(cpuinfo: string): { vendor: string; avx2: boolean; avx512: boolean } {
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '').split(/\s+/));
  const vendor = /^vendor_id\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? '';
  return { vendor, avx2: flags.has('avx2'), avx512: flags.has('avx512f') };
}

/** The OPENBLAS_CORETYPE for this CPU, or undefined when it has neither AVX2 nor AVX-512. */
export function betterCoretype(cpu: { vendor: string; avx2: boolean; avx512: boolean }): string | undefined {
  if (cpu.vendor === 'AuthenticAMD') return cpu.avx2 ? 'Zen' : undefined;
  if (cpu.avx512) return 'SkylakeX';
  if (cpu.avx2) return 'Haswell';
  return undefined;
}
