// llamacpp_greedy.mjs: llama.cpp's greedy continuation of token-id prompts
// on a GGUF file, through node-llama-cpp 3.21.1, printed as JSON for
// runtime's TestLlamaCppAgreement.
//
//   node llamacpp_greedy.mjs MODEL.gguf STEPS PROMPTS.json
//
// PROMPTS.json is [[id, ...], ...]. For each prompt the output holds
// llama.cpp's tokenizer-free greedy path: up to STEPS token ids (fewer when
// the context would overflow) and the natural-log probability of each, from
// llama.cpp's float32 softmax. The context is "exact": F32 KV cache and no
// flash attention, so what differs from goformer is the arithmetic, not a
// cache format. Exit code 3 means node-llama-cpp is not installed.
import fs from "node:fs";

let getLlama, LlamaLogLevel;
try {
  ({ getLlama, LlamaLogLevel } = await import("node-llama-cpp"));
} catch (e) {
  if (e && e.code === "ERR_MODULE_NOT_FOUND") {
    console.error("node-llama-cpp is not installed next to this script (npm i -E node-llama-cpp@3.21.1)");
    process.exit(3);
  }
  throw e;
}

const [modelPath, stepsArg, promptsPath] = process.argv.slice(2);
if (!promptsPath) {
  console.error("usage: node llamacpp_greedy.mjs MODEL.gguf STEPS PROMPTS.json");
  process.exit(2);
}
const steps = Number(stepsArg);
const prompts = JSON.parse(fs.readFileSync(promptsPath, "utf8"));

const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const ctx = await model.createContext({
  contextSize: model.trainContextSize, sequences: 1, threads: 2,
  flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
});
const seq = ctx.getSequence();
// node-llama-cpp keeps one context cell free.
const room = model.trainContextSize - 1;

const out = [];
for (const ids of prompts) {
  await seq.clearHistory();
  const n = Math.min(steps, room - ids.length);
  const tokens = [], logprobs = [];
  if (n > 0) {
    for await (const t of seq.evaluateWithMetadata(ids, { confidence: true }, { temperature: 0, yieldEogToken: true })) {
      tokens.push(t.token);
      logprobs.push(Math.log(t.confidence));
      if (tokens.length >= n) break;
    }
  }
  out.push({ tokens, logprobs });
}
console.log(JSON.stringify({ build: llama.llamaCppRelease?.release ?? null, results: out }));
await ctx.dispose();
await model.dispose();
