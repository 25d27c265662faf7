// The UDP datagrams between the traffic devices, plain ASCII so a person can
// play a device with `nc -u`:
//   controller -> light:       "R", "Y" or "G"
//   button     -> controller:  "press"
// Surrounding whitespace is ignored (`echo G | nc -u ...` sends "G\n").

import type { Color } from "./logic.js";

const COLOR_DATAGRAMS: Readonly<Record<Color, Buffer>> = {
  R: Buffer.from("R"),
  Y: Buffer.from("Y"),
  G: Buffer.from("G"),
};

export const PRESS_DATAGRAM: Buffer = Buffer.from("press");

export function encodeColor(color: Color): Buffer {
  return COLOR_DATAGRAMS[color];
}

/** The color a datagram names, or null if it names none. */
export function decodeColor(datagram: Buffer): Color | null {
  const text = datagram.toString("latin1").trim();
  return text === "R" || text === "Y" || text === "G" ? text : null;
}

export function isPress(datagram: Buffer): boolean {
  return datagram.toString("latin1").trim() === "press";
}
