// Why a call ended, in words a person can act on.
//
// The server's close codes are listed in the README ("How a session ends").
// Several things can report the same ending (the socket's close event, the
// transport's generic error, the client's disconnect callback); each becomes a
// candidate `Ending` and the most specific one wins (highest `rank`).

export class Ending {
  constructor(kind, message, rank, { isError = true } = {}) {
    this.kind = kind; // stable name, also exposed as data-end on the page
    this.message = message;
    this.rank = rank;
    this.isError = isError;
  }
}

export function fromClose(code, reason) {
  const why = (reason || "").trim();
  switch (code) {
    case 1013:
      if (/drain/i.test(why)) {
        return new Ending("draining", "The server is restarting and takes no new calls. Try again shortly.", 90);
      }
      return new Ending("at-capacity", "Server at capacity: every slot is busy. Try again in a minute.", 90);
    case 1000:
      if (/idle/i.test(why)) {
        return new Ending("idle-timeout", "Disconnected: the call was idle for too long.", 80);
      }
      if (/max/i.test(why)) {
        return new Ending("max-duration", "Disconnected: the call reached its maximum length.", 80);
      }
      return new Ending("disconnected", `Disconnected by the server${why ? ` (${why})` : ""}.`, 70);
    case 1001:
      return new Ending("server-shutdown", "Disconnected: the server is shutting down.", 80);
    case 1007:
      return new Ending("protocol-error", "Disconnected: the server could not read what this page sent.", 80);
    case 1009:
      return new Ending("too-large", "Disconnected: a message was too large for the server.", 80);
    case 1011:
      return new Ending("server-error", "Disconnected: the server hit an error in this call.", 80);
    default:
      return new Ending(
        "disconnected",
        `Disconnected: the connection was lost (code ${code}${why ? `, ${why}` : ""}).`,
        60,
      );
  }
}

export function micProblem(error) {
  const name = error?.details?.sourceError?.name || error?.name || "";
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return new Ending("no-microphone", "No microphone found. Plug one in and try again.", 95);
  }
  if (name === "NotReadableError") {
    return new Ending("microphone-busy", "The microphone is in use by another program.", 95);
  }
  return new Ending(
    "microphone-blocked",
    "Microphone blocked: allow microphone access for this page, then press Connect again.",
    95,
  );
}

export const UNREACHABLE = new Ending(
  "unreachable",
  "Could not reach the server. Is `voxswitch serve` running?",
  50,
);

// The transport's own "closed" / "disconnected" reports: true, but least specific.
export const DROPPED = new Ending("disconnected", "Disconnected.", 10);

export const HUNG_UP = new Ending("hung-up", "Disconnected.", 100, { isError: false });

export function fatalError(text) {
  return new Ending("error", `Disconnected: ${text}`, 40);
}
