#!/usr/bin/env node
// Evaluates JsonLogic rules with the reference implementation (json-logic-js).
// stdin: a JSON array, or JSON lines, of {"rule": ..., "data": ...}.
// stdout: a JSON array with, per item, {"result": value} or {"error": message}.
"use strict";

const jsonLogic = require("json-logic-js");

function parseInput(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    return JSON.parse(trimmed);
  }
  return trimmed.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line));
}

function evaluate(item) {
  try {
    return { result: jsonLogic.apply(item.rule, item.data) };
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
}

const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const items = parseInput(Buffer.concat(chunks).toString("utf8"));
  process.stdout.write(JSON.stringify(items.map(evaluate)) + "\n");
});
