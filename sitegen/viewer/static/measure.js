// A measurement being drawn (length: press, drag, release; angle: two legs, the second one
// placed by hovering): points in image coordinates, finished measurements handed to `done`.

export class Measuring {
  constructor(toImage, done) {
    this.toImage = toImage; // screen point {x, y} -> [x, y] in image pixels
    this.done = done;
    this.draft = null; // {kind, slice, points, stage}
  }

  hover(p) {
    const d = this.draft;
    if (!d || d.kind !== "angle" || d.stage !== 2) return false;
    d.points[2] = this.toImage(p.x, p.y);
    return true;
  }

  down(kind, p, slice) {
    const point = this.toImage(p.x, p.y);
    const d = this.draft;
    if (d && d.kind === "angle" && d.stage === 2 && kind === "angle") {
      d.points[2] = point;
      d.stage = 3;
    } else {
      this.draft = { kind, slice, points: [point, [...point]], stage: 1 };
    }
  }

  move(p) {
    const d = this.draft;
    if (!d) return false;
    d.points[d.stage === 3 ? 2 : 1] = this.toImage(p.x, p.y);
    return true;
  }

  up(p, moved) {
    const d = this.draft;
    if (!d) return false;
    if (d.stage === 1 && !moved) {
      this.draft = null;
    } else if (d.kind === "angle" && d.stage === 1) {
      d.stage = 2;
      d.points[2] = this.toImage(p.x, p.y);
    } else {
      this.draft = null;
      this.done({ kind: d.kind, slice: d.slice, points: d.points.slice(0, d.kind === "length" ? 2 : 3) });
    }
    return true;
  }

  cancel() {
    this.draft = null;
  }
}
