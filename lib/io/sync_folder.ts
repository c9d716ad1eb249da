/** Makes a rename, link or removal inside `folder` durable, by fsyncing the folder itself. */
export async function syncFolder(folder: string): Promise<void> {
  using dir = await Deno.open(folder, { read: true });
  await dir.sync();
}
