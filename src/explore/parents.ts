// Parent pointers of the explorer's breadth-first tree, two int32 per state:
// the id of the state it was first reached from, and which of that state's
// enabled events led here (its position in `events(parent)`). Storing the
// event's position instead of the event keeps this at 8 bytes per state; the
// path to a state is rebuilt by replaying those positions from the start.

/** The parent of an initial state. */
export const NO_PARENT = -1;

export class ParentTable {
  private slots = new Int32Array(2 * 1024);
  private count = 0;

  /**
   * Records the state with the next id. For an initial state pass
   * parent = NO_PARENT and ordinal = its index among the model's initial states.
   */
  add(parent: number, ordinal: number): number {
    if (2 * this.count === this.slots.length) {
      const grown = new Int32Array(this.slots.length * 2);
      grown.set(this.slots);
      this.slots = grown;
    }
    this.slots[2 * this.count] = parent;
    this.slots[2 * this.count + 1] = ordinal;
    return this.count++;
  }

  /** The parent's id, or NO_PARENT for an initial state. */
  parent(id: number): number {
    return this.slots[2 * id];
  }

  ordinal(id: number): number {
    return this.slots[2 * id + 1];
  }
}
