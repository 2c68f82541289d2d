/// The one-page UI at `GET /`: a prime box, temperature / top-p / length controls, Generate and
/// Stop, the text as it streams, and the model card. Self-contained: no external script, style
/// sheet, font or image. Errors (a refused request, a script error) show in `#error` and are kept
/// in `window.pageErrors`, which the browser test reads.
enum Page {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>charnn</title>
<style>
  :root { color-scheme: light dark; --accent: #2f6fb0; }
  body { font: 15px/1.45 system-ui, sans-serif; max-width: 64rem; margin: 1.5rem auto; padding: 0 1rem; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  main { display: grid; grid-template-columns: 1fr 17rem; gap: 1.5rem; }
  textarea { width: 100%; box-sizing: border-box; font: 14px/1.4 ui-monospace, monospace; }
  .controls { display: grid; grid-template-columns: 7rem 1fr 3.5rem; gap: .4rem .6rem; align-items: center; margin: .8rem 0; }
  .controls output { font-variant-numeric: tabular-nums; }
  button { font: inherit; padding: .35rem 1.1rem; border-radius: .3rem; border: 1px solid var(--accent); cursor: pointer; }
  #generate { background: var(--accent); color: white; }
  button:disabled { opacity: .45; cursor: default; }
  #output { white-space: pre-wrap; font: 14px/1.45 ui-monospace, monospace; border: 1px solid #8884; border-radius: .3rem;
            padding: .8rem; min-height: 16rem; margin-top: .8rem; }
  #output .prime { opacity: .6; }
  #status { color: #888; font-size: .9rem; margin-top: .4rem; min-height: 1.3em; }
  #error { color: #c0392b; white-space: pre-wrap; min-height: 1.3em; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  td { padding: .15rem .3rem; border-bottom: 1px solid #8883; vertical-align: top; overflow-wrap: anywhere; }
  td:first-child { color: #888; }
</style>
</head>
<body>
<h1>charnn</h1>
<main>
<section>
  <label for="prime">Prime</label>
  <textarea id="prime" rows="3" placeholder="Text to start from (may be empty)"></textarea>
  <div class="controls">
    <label for="temperature">Temperature</label><input id="temperature" type="range" min="0.1" max="2" step="0.05" value="0.8"><output id="temperature-value">0.8</output>
    <label for="top-p">Top-p</label><input id="top-p" type="range" min="0.05" max="1" step="0.05" value="1"><output id="top-p-value">1</output>
    <label for="length">Length</label><input id="length" type="number" min="1" value="500"><span></span>
    <label for="seed">Seed</label><input id="seed" type="number" min="0" placeholder="random"><span></span>
  </div>
  <button id="generate">Generate</button> <button id="stop" disabled>Stop</button>
  <div id="error" role="alert"></div>
  <div id="output" aria-live="polite"></div>
  <div id="status"></div>
</section>
<aside>
  <h2 style="font-size:1.05rem;margin:0 0 .5rem">Model</h2>
  <table id="card"><tr><td>loading…</td></tr></table>
</aside>
</main>
<script>
"use strict";
window.pageErrors = [];
const $ = (id) => document.getElementById(id);
function showError(message) {
  window.pageErrors.push(message);
  $("error").textContent = message;
}
window.addEventListener("error", (e) => showError("script error: " + e.message));
window.addEventListener("unhandledrejection", (e) => showError("script error: " + e.reason));

for (const id of ["temperature", "top-p"]) {
  $(id).addEventListener("input", () => { $(id + "-value").textContent = $(id).value; });
}

let controller = null;
let symbols = 0;
let limits = null;

async function loadCard() {
  const response = await fetch("/v1/model");
  if (!response.ok) { showError("GET /v1/model answered " + response.status); return; }
  const info = await response.json();
  const m = info.model, t = m.training || {};
  limits = info.limits;
  $("length").max = limits.max_length;
  const rows = [
    ["cell", m.cell.toUpperCase()],
    ["size", m.layers + "×" + m.hidden_size + ", embedding " + m.embedding_size],
    ["parameters", m.parameters.toLocaleString("en")],
    ["vocabulary", m.vocabulary_size + " symbols (" + m.unit + ", " + m.normalization + ")"],
    ["precision", m.precision],
    ["trained", t.step != null ? "step " + t.step + (t.epoch != null ? ", epoch " + t.epoch : "") : "—"],
    ["validation loss", t.best_validation_loss != null ? t.best_validation_loss.toFixed(4) + " nats/char" : "—"],
    ["checkpoint", m.checkpoint || "—"],
  ];
  const table = $("card");
  table.textContent = "";
  for (const [name, value] of rows) {
    const tr = table.insertRow();
    tr.insertCell().textContent = name;
    tr.insertCell().textContent = value;
  }
}

function setRunning(running) {
  $("generate").disabled = running;
  $("stop").disabled = !running;
}

async function generate() {
  $("error").textContent = "";
  const out = $("output");
  out.textContent = "";
  const prime = $("prime").value;
  if (prime) {
    const span = document.createElement("span");
    span.className = "prime";
    span.textContent = prime;
    out.appendChild(span);
  }
  const generated = document.createTextNode("");
  out.appendChild(generated);
  const request = {
    prime, stream: true,
    length: parseInt($("length").value, 10) || 500,
    temperature: parseFloat($("temperature").value),
    top_p: parseFloat($("top-p").value),
  };
  if ($("seed").value !== "") request.seed = parseInt($("seed").value, 10);
  symbols = 0;
  const started = performance.now();
  controller = new AbortController();
  setRunning(true);
  $("status").textContent = "generating…";
  try {
    const response = await fetch("/v1/generate", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(request), signal: controller.signal,
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      const e = body && body.error;
      showError(e ? e.field + ": " + e.message : "the server answered " + response.status);
      $("status").textContent = "";
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "", reason = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
        }
        const payload = JSON.parse(data);
        if (event === "symbol") { generated.appendData(payload.text); symbols += 1; }
        else if (event === "start") $("status").dataset.seed = payload.seed;
        else if (event === "done") reason = payload.reason;
      }
      const seconds = (performance.now() - started) / 1000;
      $("status").textContent = symbols + " symbols, " + (symbols / seconds).toFixed(0) + " symbols/s";
    }
    $("status").textContent = symbols + " symbols (" + (reason === "shutdown" ? "the server is shutting down" : "done") +
      "), seed " + $("status").dataset.seed;
  } catch (e) {
    if (e.name === "AbortError") $("status").textContent = symbols + " symbols (stopped)";
    else showError("generation failed: " + e.message);
  } finally {
    controller = null;
    setRunning(false);
  }
}

$("generate").addEventListener("click", generate);
$("stop").addEventListener("click", () => { if (controller) controller.abort(); });
loadCard().catch((e) => showError("model card: " + e.message));
</script>
</body>
</html>
"""#
}
