// UDP sockets for the traffic devices, which all live on the loopback address.

import dgram from "node:dgram";

export const LOOPBACK = "127.0.0.1";

/** A device could not take its UDP port. */
export class BindError extends Error {
  constructor(port: number, cause: Error) {
    const why = (cause as NodeJS.ErrnoException).code === "EADDRINUSE" ? "the port is already in use" : cause.message;
    super(`cannot listen on UDP ${LOOPBACK}:${port}: ${why}`);
    this.name = "BindError";
  }
}

/** A socket bound to LOOPBACK:port (0: a free port, see socket.address()). */
export function bindLoopback(port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve, reject) => {
    socket.once("error", (error) => {
      socket.close();
      reject(new BindError(port, error));
    });
    socket.bind(port, LOOPBACK, () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
  });
}

export function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}
