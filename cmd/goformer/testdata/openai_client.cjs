// The official openai npm package against goformer serve: each case's
// parsed result, printed as one JSON object for TestOpenAINodeClient to
// compare with `goformer run --json`. Usage: GOFORMER_URL=http://127.0.0.1:PORT
// GOFORMER_KEY=KEY NODE_PATH=dir/node_modules node openai_client.cjs
'use strict';
const OpenAI = require('openai');

const baseURL = process.env.GOFORMER_URL + '/v1';
const client = new OpenAI({ baseURL, apiKey: process.env.GOFORMER_KEY, maxRetries: 0, timeout: 60000 });
const prompt = 'The meaning of life is';

// failure is what the client's error says of a refused request.
function failure(err) {
  if (!(err instanceof OpenAI.APIError)) throw err;
  return { status: err.status, type: err.type, param: err.param, code: err.code, message: err.message };
}

async function expectError(f) {
  try {
    await f();
  } catch (err) {
    return failure(err);
  }
  return { status: 200 };
}

async function main() {
  const out = {};
  const models = await client.models.list();
  out.models = models.data.map((m) => m.id);

  const greedy = await client.completions.create({ model: out.models[0], prompt, max_tokens: 16, temperature: 0 });
  out.greedy = { text: greedy.choices[0].text, finish_reason: greedy.choices[0].finish_reason, usage: greedy.usage };

  const stream = await client.completions.create({
    model: out.models[0], prompt, max_tokens: 16, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    for (const c of chunk.choices) {
      text += c.text;
      if (c.finish_reason) finish = c.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  out.greedy_stream = { text, finish_reason: finish, usage, chunks };

  const lp = await client.completions.create({ model: out.models[0], prompt, max_tokens: 8, temperature: 0, logprobs: 2 });
  out.logprobs = {
    text: lp.choices[0].text,
    tokens: lp.choices[0].logprobs.tokens,
    token_logprobs: lp.choices[0].logprobs.token_logprobs,
    top_logprobs: lp.choices[0].logprobs.top_logprobs,
  };

  // top_k is not in OpenAI's types; the client sends it as it is.
  const sampled = await client.completions.create({
    model: out.models[0], prompt, max_tokens: 20, temperature: 0.8, top_p: 0.95, top_k: 40, seed: 7,
  });
  out.sampled = { text: sampled.choices[0].text };

  const stopped = await client.completions.create({ model: out.models[0], prompt, max_tokens: 16, temperature: 0, stop: ['.'] });
  out.stop = { text: stopped.choices[0].text, finish_reason: stopped.choices[0].finish_reason };

  const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Tell me about the county.' }];
  const chat = await client.chat.completions.create({ model: out.models[0], messages, max_tokens: 16, temperature: 0, logprobs: true, top_logprobs: 2 });
  out.chat = {
    text: chat.choices[0].message.content,
    role: chat.choices[0].message.role,
    finish_reason: chat.choices[0].finish_reason,
    usage: chat.usage,
    logprobs: chat.choices[0].logprobs.content.map((c) => c.logprob),
  };
  const chatStream = await client.chat.completions.create({ model: out.models[0], messages, max_tokens: 16, temperature: 0, stream: true });
  text = '';
  finish = null;
  let role = null;
  for await (const chunk of chatStream) {
    for (const c of chunk.choices) {
      if (c.delta.role) role = c.delta.role;
      if (c.delta.content) text += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  out.chat_stream = { text, role, finish_reason: finish };

  out.errors = {
    n: await expectError(() => client.completions.create({ model: 'x', prompt, n: 2 })),
    max_tokens: await expectError(() => client.completions.create({ model: 'x', prompt, max_tokens: 100000 })),
    chat: await expectError(() => client.chat.completions.create({ model: 'x', messages: [{ role: 'robot', content: 'Hi' }] })),
    auth: await expectError(() => new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 }).models.list()),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
