// One call to the bot over /ws, with Pipecat's official client and WebSocket
// transport. A Call is used once: connect, talk, end. The page makes a new one
// for every press of "Connect", so nothing from an earlier call leaks in.

import { LogLevel, PipecatClient } from "@pipecat-ai/client-js";
import {
  ProtobufFrameSerializer,
  WavMediaManager,
  WebSocketTransport,
} from "@pipecat-ai/websocket-transport";

import { DROPPED, HUNG_UP, UNREACHABLE, fatalError, fromClose, micProblem } from "./endings.js";
import { TurnClock } from "./turns.js";

const MIC_SAMPLE_RATE = 16000; // what /ws takes: 16 kHz mono PCM16
const BOT_SAMPLE_RATE = 24000; // what the bot sends
const LEVEL_POLL_MS = 50;

// The media manager that records the mic and plays the bot, counting the bot's
// audio as it arrives (the page shows it, and the browser test reads it).
// WavMediaManager uses the browser's own getUserMedia and Web Audio; the
// transport's default (Daily's) would need Daily's hosted call machine.
class CountingMediaManager extends WavMediaManager {
  constructor(onBotAudio) {
    super(undefined, MIC_SAMPLE_RATE);
    this.onBotAudio = onBotAudio;
    // The player drops every later chunk of a track it was told to interrupt,
    // so each answer after a barge-in plays on a track of its own.
    this.answer = 0;
  }

  bufferBotAudio(data) {
    this.onBotAudio(data.byteLength);
    return super.bufferBotAudio(data, `answer-${this.answer}`);
  }

  async stopBotAudio() {
    await this.userStartedSpeaking();
    this.answer += 1;
  }
}

// Pipecat's protobuf serializer, quiet about the frames this page has no use
// for. The server also sends "interruption" frames (when the user barges in);
// the JS serializer has no decoder for them and would log an error for each.
// The page learns of barge-in from the RTVI "user-started-speaking" message.
class QuietProtobufSerializer extends ProtobufFrameSerializer {
  async deserialize(data) {
    try {
      return await super.deserialize(data);
    } catch (error) {
      if (/unknown frame kind/i.test(String(error?.message))) return { type: "raw", message: null };
      throw error;
    }
  }
}

// The transport, plus the close code and reason of the socket. The stock
// transport reports a server close only as a text error without the reason,
// and the reason tells "at capacity" from "draining".
class ClosingAwareTransport extends WebSocketTransport {
  constructor(opts, onClose) {
    super(opts);
    this.onClose = onClose;
  }

  initializeWebsocket() {
    const ws = super.initializeWebsocket();
    ws.on("close", (code, reason) => this.onClose(code, reason));
    return ws;
  }
}

// Local microphone level, for the meter and for the end of the user's speech.
class MicLevel {
  constructor(track, onLevel) {
    this.context = new AudioContext();
    const source = this.context.createMediaStreamSource(new MediaStream([track]));
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 1024;
    source.connect(this.analyser);
    const samples = new Float32Array(this.analyser.fftSize);
    this.timer = setInterval(() => {
      this.analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      onLevel(Math.sqrt(sum / samples.length), performance.now());
    }, LEVEL_POLL_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.context.close().catch(() => {});
  }
}

/**
 * `view` receives what happens, as plain calls:
 *   state(name)                      connecting | connected | listening | user-speaking | bot-thinking | bot-speaking
 *   userText(text, final)            the user's words (interim ones are replaced by the final)
 *   userTurnEnded()
 *   botTextStarted() / botText(t) / botTextEnded()
 *   latency(ms)                      one voice-to-voice figure per turn
 *   botAudio(bytes)                  every chunk of bot audio
 *   micLevel(rms)
 *   notice(text)                     a non-fatal error from the server
 *   ended(ending)                    once, at the very end
 */
export class Call {
  constructor(wsUrl, view) {
    this.wsUrl = wsUrl;
    this.view = view;
    this.clock = new TurnClock();
    this.level = null;
    this.endings = [];
    this.finished = false;
    this.micError = null;

    this.mediaManager = new CountingMediaManager((bytes) => this.onBotAudio(bytes));
    const transport = new ClosingAwareTransport(
      {
        wsUrl,
        mediaManager: this.mediaManager,
        serializer: new QuietProtobufSerializer(),
        recorderSampleRate: MIC_SAMPLE_RATE,
        playerSampleRate: BOT_SAMPLE_RATE,
      },
      (code, reason) => this.end(fromClose(code, reason)),
    );
    this.client = new PipecatClient({
      transport,
      enableMic: true,
      enableCam: false,
      callbacks: this.callbacks(),
    });
    this.client.setLogLevel(LogLevel.WARN);
  }

  // Events that only matter while the call is live; the rest handle the end themselves.
  callbacks() {
    const always = new Set([
      "onTransportStateChanged",
      "onError",
      "onDisconnected",
      "onDeviceError",
    ]);
    const all = this.allCallbacks();
    for (const [name, fn] of Object.entries(all)) {
      if (!always.has(name)) all[name] = (...args) => (this.finished ? undefined : fn(...args));
    }
    return all;
  }

  allCallbacks() {
    return {
      onTransportStateChanged: (state) => {
        if (this.finished) {
          // A connect still in flight when the call ended: make sure the mic is released.
          if (state === "connected" || state === "ready") this.client.disconnect().catch(() => {});
          return;
        }
        if (state === "connecting" || state === "initializing") this.view.state("connecting");
        else if (state === "connected" || state === "ready") this.view.state("connected");
      },
      onBotReady: () => this.view.state("listening"),
      onDeviceError: (error) => {
        if (error.devices?.includes("mic")) this.micError = micProblem(error);
      },
      onTrackStarted: (track, participant) => {
        if (participant?.local && track.kind === "audio" && !this.level) {
          this.level = new MicLevel(track, (rms, at) => {
            this.clock.micLevel(rms, at);
            this.view.micLevel(rms);
          });
        }
      },
      onUserStartedSpeaking: () => {
        this.clock.userStarted(performance.now());
        // Barge-in: drop the bot audio still queued for playback (the transport does not).
        this.mediaManager.stopBotAudio().catch(() => {});
        this.view.state("user-speaking");
      },
      onUserStoppedSpeaking: () => {
        this.clock.userStopped(performance.now());
        this.view.userTurnEnded();
        this.view.state("bot-thinking");
      },
      onUserTranscript: (data) => {
        if (data?.text) this.view.userText(data.text, Boolean(data.final));
      },
      onBotLlmStarted: () => this.view.botTextStarted(),
      onBotLlmText: (data) => {
        if (data?.text) this.view.botText(data.text);
      },
      onBotLlmStopped: () => this.view.botTextEnded(),
      onBotStartedSpeaking: () => this.view.state("bot-speaking"),
      onBotStoppedSpeaking: () => this.view.state("listening"),
      onError: (message) => {
        const data = message?.data ?? {};
        const text = String(data.message ?? data.error ?? "unknown error");
        if (!data.fatal) {
          this.view.notice(text);
          return;
        }
        // "websocket connection closed. Code: N" comes with the close event, which knows more.
        this.end(/connection closed/i.test(text) ? DROPPED : fatalError(text));
      },
      onDisconnected: () => this.end(DROPPED),
    };
  }

  async start() {
    this.view.state("connecting");
    try {
      // Devices first: a blocked microphone should not take a slot on the server.
      await this.client.initDevices();
    } catch (error) {
      this.end(this.micError ?? micProblem(error));
      return;
    }
    if (this.micError) {
      this.end(this.micError);
      return;
    }
    // connect() resolves on bot-ready; a refused or dropped call ends through the callbacks.
    this.client.connect({ wsUrl: this.wsUrl }).catch(() => {
      if (!this.finished) this.end(this.micError ?? UNREACHABLE);
    });
  }

  hangUp() {
    this.end(HUNG_UP);
  }

  onBotAudio(bytes) {
    if (this.finished) return;
    const latency = this.clock.botAudio(performance.now());
    if (latency !== null) this.view.latency(latency);
    this.view.botAudio(bytes);
  }

  // Collect every report of the end that arrives in the same moment, then act once on the best.
  end(ending) {
    this.endings.push(ending);
    if (this.finished) return;
    this.finished = true;
    setTimeout(() => this.finish(), 0);
  }

  async finish() {
    this.level?.stop();
    this.level = null;
    try {
      await this.client.disconnect();
    } catch {
      // Already disconnected: nothing left to release.
    }
    const best = this.endings.reduce((a, b) => (b.rank > a.rank ? b : a));
    this.view.ended(best);
  }
}
