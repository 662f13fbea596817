// Cine: the slices played in a loop at the chosen frames per second, waiting for a slice that
// is still loading rather than flashing a "loading" message.

export class Cine {
  constructor(button, fps, next) {
    this.button = button;
    this.fps = fps; // the <select> of frames per second
    this.next = next; // called once per tick: shows the next slice when it is there
    this.timer = null;
  }

  get playing() {
    return this.timer !== null;
  }

  play(on) {
    clearInterval(this.timer);
    this.timer = null;
    this.button.setAttribute("aria-pressed", String(on));
    this.button.textContent = on ? "Pause" : "Play";
    if (on) this.timer = setInterval(this.next, 1000 / Number(this.fps.value));
  }
}
