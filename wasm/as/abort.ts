// The `abort` the AssemblyScript runtime calls on a failed assertion or out-of-bounds access.
// Extism plugins have no `env.abort` import: trap instead, so the host reports PLUGIN_TRAPPED.
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  unreachable()
}
