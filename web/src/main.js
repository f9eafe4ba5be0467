// The page: one button, a status line, the transcript and a few figures.
// All talking to the server happens in call.js; this file only shows it.

import "./style.css";

import { Call } from "./call.js";
import { median } from "./turns.js";

const $ = (id) => document.getElementById(id);
const app = $("app");
const button = $("call");
const statusText = $("status");
const alertBox = $("alert");
const transcript = $("transcript");
const empty = $("empty");
const stats = $("stats");
const meter = $("mic-level");

const STATUS = {
  idle: "Not connected",
  connecting: "Connecting…",
  connected: "Connected, waiting for the bot…",
  listening: "Listening: speak any time",
  "user-speaking": "Hearing you…",
  "bot-thinking": "Thinking…",
  "bot-speaking": "Bot is speaking",
};
const BOT_SAMPLE_RATE = 24000;

let call = null;

function wsUrl() {
  const url = new URL("ws", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(2)} s`;
}

function showAlert(text, kind) {
  alertBox.textContent = text;
  alertBox.className = `alert ${kind}`;
  alertBox.hidden = false;
}

function hideAlert() {
  alertBox.hidden = true;
  alertBox.textContent = "";
}

// One view per call: it owns that call's turns and figures.
function makeView() {
  let userTurn = null;
  let botTurn = null;
  let lastBotTurn = null;
  let noticeTimer = null;
  const latencies = [];
  let audioChunks = 0;
  let audioBytes = 0;

  function addTurn(who) {
    empty.hidden = true;
    const li = document.createElement("li");
    li.className = `turn ${who}`;
    const head = document.createElement("div");
    head.className = "who";
    head.textContent = who === "user" ? "You" : "Bot";
    const text = document.createElement("p");
    text.className = "text";
    li.append(head, text);
    transcript.append(li);
    li.scrollIntoView({ block: "nearest" });
    return li;
  }

  return {
    state(name) {
      app.dataset.state = name;
      statusText.textContent = STATUS[name] ?? name;
    },
    userText(text, final) {
      userTurn ??= addTurn("user");
      const p = userTurn.querySelector(".text");
      if (final) {
        userTurn.dataset.final = (`${userTurn.dataset.final ?? ""} ${text}`).trim();
        p.textContent = userTurn.dataset.final;
        p.classList.remove("interim");
      } else {
        p.textContent = (`${userTurn.dataset.final ?? ""} ${text}`).trim();
        p.classList.add("interim");
      }
    },
    userTurnEnded() {
      // The transcript usually arrives after this: the user's turn stays open until the bot answers.
    },
    botTextStarted() {
      userTurn = null;
      botTurn = addTurn("bot");
      lastBotTurn = botTurn;
    },
    botText(text) {
      if (!botTurn) this.botTextStarted();
      const p = botTurn.querySelector(".text");
      p.textContent += text;
      botTurn.scrollIntoView({ block: "nearest" });
    },
    botTextEnded() {
      botTurn = null;
    },
    latency(ms) {
      latencies.push(ms);
      const turn = botTurn ?? lastBotTurn ?? addTurn("bot");
      let tag = turn.querySelector(".latency");
      if (!tag) {
        tag = document.createElement("span");
        tag.className = "latency";
        tag.title = "Voice-to-voice: from the end of your speech to the bot's first audio";
        turn.querySelector(".who").append(tag);
      }
      tag.dataset.ms = String(Math.round(ms));
      tag.textContent = `answered in ${seconds(ms)}`;
      const mid = median(latencies);
      $("stat-latency").textContent =
        latencies.length > 1 ? `${seconds(ms)} (median ${seconds(mid)})` : seconds(ms);
      $("stat-turns").textContent = String(latencies.length);
      stats.dataset.turns = String(latencies.length);
      stats.dataset.lastLatencyMs = String(Math.round(ms));
    },
    botAudio(bytes) {
      audioChunks += 1;
      audioBytes += bytes;
      stats.dataset.botAudioChunks = String(audioChunks);
      stats.dataset.botAudioBytes = String(audioBytes);
      $("stat-audio").textContent = `${(audioBytes / 2 / BOT_SAMPLE_RATE).toFixed(1)} s`;
    },
    micLevel(rms) {
      // -60 dBFS .. 0 dBFS onto 0 .. 100 %
      const db = 20 * Math.log10(Math.max(rms, 1e-6));
      meter.style.width = `${Math.max(0, Math.min(100, ((db + 60) / 60) * 100))}%`;
    },
    notice(text) {
      showAlert(`Server: ${text}`, "notice");
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(hideAlert, 8000);
    },
    ended(ending) {
      clearTimeout(noticeTimer);
      app.dataset.state = "ended";
      app.dataset.end = ending.kind;
      statusText.textContent = ending.isError ? "Not connected" : ending.message.replace(/\.$/, "");
      if (ending.isError) showAlert(ending.message, "error");
      else hideAlert();
      meter.style.width = "0";
      button.textContent = "Connect";
      button.disabled = false;
      call = null;
    },
  };
}

button.addEventListener("click", () => {
  if (call) {
    button.disabled = true;
    call.hangUp();
    return;
  }
  hideAlert();
  delete app.dataset.end;
  transcript.replaceChildren();
  empty.hidden = false;
  $("stat-turns").textContent = "0";
  $("stat-latency").textContent = "–";
  $("stat-audio").textContent = "0.0 s";
  Object.assign(stats.dataset, { turns: "0", botAudioChunks: "0", botAudioBytes: "0", lastLatencyMs: "" });
  button.textContent = "Disconnect";
  call = new Call(wsUrl(), makeView());
  call.start();
});
