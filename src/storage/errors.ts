/**
 * The data directory holds something that cannot be a log this WAL wrote:
 * a bad checksum or an impossible record before the end of the log, or a
 * missing file. Starting anyway could silently drop committed entries, so
 * this is fatal; the message names the file and the byte offset.
 */
export class WalCorruptionError extends Error {
  override readonly name = "WalCorruptionError";
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      `refusing to start: ${file} is corrupt at byte ${offset}: ${reason}. ` +
        `Records after it may hold committed entries, so they are not dropped automatically; ` +
        `inspect or restore the file before restarting this node.`,
    );
  }
}
