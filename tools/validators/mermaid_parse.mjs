#!/usr/bin/env node
// Parses Mermaid flowcharts with Mermaid's own parser and prints what it understood.
// stdin: a JSON array of diagram texts. stdout: a JSON array with, per text,
// {"vertices": [{id, text, type}], "edges": [{start, end, text, type}]} or {"error": message}.
// Labels come back with Mermaid's entity placeholders decoded to `&name;` / `&#123;` forms.
//
// Only parsing runs here: Mermaid sanitises label HTML with DOMPurify, which needs a browser
// DOM; without one its sanitize/addHook are missing, so they are made pass-through. That
// changes nothing about what the grammar accepts or the graph it builds.
import DOMPurify from "dompurify";

DOMPurify.sanitize = (text) => text;
DOMPurify.addHook = () => {};
const { default: mermaid } = await import("mermaid");

function decode(text) {
  return String(text ?? "")
    .replace(/ﬂ°°(\d+)¶ß/g, "&#$1;")
    .replace(/ﬂ°(\w+)¶ß/g, "&$1;");
}

async function parse(text) {
  try {
    await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const db = diagram.db;
    return {
      type: diagram.type,
      vertices: [...db.getVertices().values()].map((v) => ({
        id: v.id, text: decode(v.text), type: v.type,
      })),
      edges: db.getEdges().map((e) => ({
        start: e.start, end: e.end, text: decode(e.text), type: e.type,
      })),
    };
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const texts = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = [];
for (const text of texts) results.push(await parse(text));
process.stdout.write(JSON.stringify(results) + "\n");
