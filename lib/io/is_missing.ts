/**
 * Whether a file is gone. Only "not found" means gone: a file that cannot be
 * stat-ed right now (a mount not yet there, a permission) may well come back.
 */
export async function isMissing(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory;
  }
}
