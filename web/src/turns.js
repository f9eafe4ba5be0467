// Voice-to-voice latency per turn: from the end of the user's speech to the
// first bot audio that reaches this page.
//
// The server says "user stopped speaking" only after its VAD has heard enough
// silence, so the end of speech is taken from the local microphone level: the
// last moment it was above the voice threshold before that event. If the room
// is noisy (the level never dropped), the event's own time is used: later
// than the true end, so the figure errs towards showing more latency, never less.

export const VOICE_RMS = 0.015; // about -36 dBFS

export class TurnClock {
  constructor() {
    this.lastVoiceAt = null;
    this.userStartedAt = null;
    this.pendingSpeechEnd = null;
  }

  micLevel(rms, at) {
    if (rms >= VOICE_RMS) this.lastVoiceAt = at;
  }

  userStarted(at) {
    this.userStartedAt = at;
  }

  userStopped(at) {
    const local = this.lastVoiceAt;
    const heardLocally = local !== null && (this.userStartedAt === null || local >= this.userStartedAt - 1000);
    // A voice level at (or after) the event means noise, not speech: fall back to the event.
    this.pendingSpeechEnd = heardLocally && local < at - 50 ? local : at;
  }

  // Returns the turn's latency in ms for the first bot audio after the user stopped, else null.
  botAudio(at) {
    if (this.pendingSpeechEnd === null) return null;
    const ms = at - this.pendingSpeechEnd;
    this.pendingSpeechEnd = null;
    return Math.max(0, ms);
  }
}

export function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
