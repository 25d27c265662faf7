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

/** The data directory was written by an older raftkv, in a format this one does not read. */
export class WalFormatError extends Error {
  override readonly name = "WalFormatError";
  constructor(readonly file: string) {
    super(
      `${file} was written by an older raftkv (storage format 1); this one reads format 2 (docs/STORAGE.md). ` +
        `Start this node with an empty data directory: the other nodes bring it up to date.`,
    );
  }
}
