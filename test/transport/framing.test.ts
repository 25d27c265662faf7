import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { FRAME_HEADER_BYTES, FrameDecoder, FrameTooLargeError, encodeFrame, readFrames } from "../../src/transport/framing.js";
import { Rng, eventually, recordingLogger, type LogLine } from "./support.js";

/** Feeds `chunks` to a fresh decoder and returns copies of the frames it produced. */
function decodeAll(chunks: readonly Buffer[], maxFrameBytes = 1 << 20): Buffer[] {
  const decoder = new FrameDecoder(maxFrameBytes);
  const frames: Buffer[] = [];
  for (const chunk of chunks) decoder.push(chunk, (f) => frames.push(Buffer.from(f)));
  return frames;
}

/** Cuts `stream` at random points into pieces of 1..maxPiece bytes. */
function randomSplit(stream: Buffer, rng: Rng, maxPiece: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const n = 1 + rng.int(maxPiece);
    pieces.push(stream.subarray(at, at + n));
    at += n;
  }
  return pieces;
}

describe("FrameDecoder", () => {
  const payloads = [Buffer.alloc(0), Buffer.from("a"), Buffer.from("hello"), Buffer.alloc(300, 7), Buffer.alloc(0), Buffer.from("end")];
  const stream = Buffer.concat(payloads.map(encodeFrame));

  test("returns exactly the frames sent when fed one byte at a time", () => {
    const bytes = [...stream].map((b) => Buffer.of(b));
    assert.deepEqual(decodeAll(bytes), payloads);
  });

  test("returns exactly the frames sent whatever the split points", () => {
    const rng = new Rng(1);
    for (let i = 0; i < 500; i++) {
      assert.deepEqual(decodeAll(randomSplit(stream, rng, 1 + rng.int(400))), payloads);
    }
  });

  test("reassembles a length prefix split across chunks", () => {
    const frame = encodeFrame(Buffer.from("split header"));
    for (let cut = 1; cut < FRAME_HEADER_BYTES; cut++) {
      assert.deepEqual(decodeAll([frame.subarray(0, cut), frame.subarray(cut)]), [Buffer.from("split header")]);
    }
  });

  test("returns a frame that lies inside one chunk as a view of that chunk, not a copy", () => {
    const chunk = Buffer.concat([encodeFrame(Buffer.from("one")), encodeFrame(Buffer.from("two"))]);
    const frames: Buffer[] = [];
    new FrameDecoder(100).push(chunk, (f) => frames.push(f));
    assert.deepEqual(frames.map(String), ["one", "two"]);
    for (const f of frames) assert.equal(f.buffer, chunk.buffer);
  });

  test("refuses a frame above the limit, after delivering the frames before it", () => {
    const decoder = new FrameDecoder(10);
    const frames: string[] = [];
    const chunk = Buffer.concat([encodeFrame(Buffer.from("ok")), encodeFrame(Buffer.alloc(11))]);
    assert.throws(
      () => decoder.push(chunk, (f) => frames.push(String(f))),
      (err: unknown) => err instanceof FrameTooLargeError && err.size === 11 && err.maxFrameBytes === 10,
    );
    assert.deepEqual(frames, ["ok"]);
    // A frame exactly at the limit is fine.
    assert.deepEqual(decodeAll([encodeFrame(Buffer.alloc(10))], 10), [Buffer.alloc(10)]);
  });

  test("random garbage yields frames or FrameTooLargeError, never another failure", () => {
    const rng = new Rng(2);
    for (let i = 0; i < 2000; i++) {
      const decoder = new FrameDecoder(1 + rng.int(64));
      try {
        for (const piece of randomSplit(rng.bytes(rng.int(200)), rng, 16)) decoder.push(piece, () => {});
      } catch (err) {
        assert.ok(err instanceof FrameTooLargeError, `unexpected ${String(err)}`);
      }
    }
  });
});

/** An echo server over real loopback TCP: every frame comes back as it was received. */
class EchoServer {
  readonly lines: LogLine[];
  private readonly server: net.Server;

  constructor(maxFrameBytes: number) {
    const { logger, lines } = recordingLogger();
    this.lines = lines;
    this.server = net.createServer((socket) => {
      socket.on("error", () => {}); // clients in these tests reset connections on purpose
      readFrames(socket, { maxFrameBytes, logger, onFrame: (frame) => socket.write(encodeFrame(frame)) });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

class EchoClient {
  readonly received: Buffer[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on("error", () => {});
    socket.on("close", () => (this.closed = true));
    readFrames(socket, { maxFrameBytes: 64 << 20, logger: recordingLogger().logger, onFrame: (f) => this.received.push(Buffer.from(f)) });
  }

  static async connect(port: number): Promise<EchoClient> {
    const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new EchoClient(socket);
  }

  /** Waits for the next `n` echoed frames. */
  async take(n: number): Promise<Buffer[]> {
    await eventually(() => this.received.length >= n || this.closed, `${n} echoed frames`, 60_000);
    assert.ok(this.received.length >= n, "connection closed before the echoes arrived");
    return this.received.splice(0, n);
  }

  close(): void {
    this.socket.destroy();
  }
}

describe("framing over loopback TCP", () => {
  const server = new EchoServer(16 << 20);
  let port = 0;
  before(async () => {
    port = await server.listen();
  });
  after(() => server.close());

  const rng = new Rng(3);
  const sizes = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

  test("echoes messages from 1 B to 10 MB unchanged", async () => {
    const client = await EchoClient.connect(port);
    for (const size of sizes) {
      const payload = rng.bytes(size);
      client.socket.write(encodeFrame(payload));
      const [echo] = await client.take(1);
      assert.ok(echo!.equals(payload), `echo of ${size} B differs`);
    }
    client.close();
  });

  test("reassembles messages written one byte at a time, or in random pieces", async () => {
    const client = await EchoClient.connect(port);
    for (const size of sizes.slice(0, 6)) {
      const payload = rng.bytes(size);
      const frame = encodeFrame(payload);
      const pieces = size <= 1_000 ? [...frame].map((b) => Buffer.of(b)) : randomSplit(frame, rng, 4096);
      for (const piece of pieces) client.socket.write(piece);
      const [echo] = await client.take(1);
      assert.ok(echo!.equals(payload), `echo of ${size} B differs`);
    }
    client.close();
  });

  test("separates many frames coalesced into one write", async () => {
    const client = await EchoClient.connect(port);
    const payloads = Array.from({ length: 1000 }, (_, i) => rng.bytes(i % 50));
    client.socket.write(Buffer.concat(payloads.map(encodeFrame)));
    assert.deepEqual(await client.take(payloads.length), payloads);
    client.close();
  });

  test("keeps back-to-back messages whole and in order", async () => {
    const client = await EchoClient.connect(port);
    const payloads = Array.from({ length: 200 }, (_, i) => rng.bytes(1 + ((i * 7919) % 20_000)));
    for (const p of payloads) client.socket.write(encodeFrame(p));
    assert.deepEqual(await client.take(payloads.length), payloads);
    client.close();
  });
});

describe("framing limits and bad input", () => {
  const server = new EchoServer(1 << 20);
  let port = 0;
  before(async () => {
    port = await server.listen();
  });
  after(() => server.close());

  test("an oversized frame closes the connection and is logged as an error", async () => {
    const client = await EchoClient.connect(port);
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    header.writeUInt32BE(2 << 20);
    client.socket.write(Buffer.concat([header, Buffer.alloc(1000)]));
    await eventually(() => client.closed, "the server to close the connection");
    const line = server.lines.find((l) => l.event === "frame_too_large");
    assert.ok(line, "no frame_too_large log line");
    assert.equal(line.level, "error");
    assert.equal(line.size, 2 << 20);
    assert.equal(line.maxFrameBytes, 1 << 20);
  });

  test("random garbage never crashes the process; the server keeps serving", async () => {
    const rng = new Rng(4);
    for (let i = 0; i < 20; i++) {
      const client = await EchoClient.connect(port);
      client.socket.end(rng.bytes(1 + rng.int(100_000)));
      await eventually(() => client.closed, "the garbage connection to close");
    }
    const client = await EchoClient.connect(port);
    client.socket.write(encodeFrame(Buffer.from("still alive")));
    assert.deepEqual((await client.take(1)).map(String), ["still alive"]);
    client.close();
  });
});
