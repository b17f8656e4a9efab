/** `neox-sim data preprocess`: tokenize text into Megatron's indexed dataset, as gpt-neox's tools/preprocess_data.py. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InputError } from '../../common/errors.js';
import { bestFittingDtype, writeIndexedDataset } from '../../trainer/data/indexed-dataset.js';
import { loadTokenizer, type TextTokenizer } from '../../trainer/data/tokenizer.js';

const HELP = `Usage: neox-sim data preprocess --input FILE [--input FILE …] --output-prefix P [options]

Tokenizes text into Megatron's mmap indexed dataset, as gpt-neox's tools/preprocess_data.py does: writes
P_text_document.bin (the token ids, uint16 below 65,500 ids, else int32) and P_text_document.idx (magic
MMIDIDX, sizes, pointers, document index). Train on it with
  neox-sim train --model <preset> --data-prefix P_text_document
Documents: each line of a .jsonl file (a JSON object with a "text" string, gpt-neox's default key) or each
other file as a whole (UTF-8 text). Both files are written atomically; on bad input nothing is written.

Options:
  --input FILE          input file, .jsonl or text (repeatable; documents keep the order given)
  --output-prefix P     output path prefix
  --tokenizer T         neox-20b (default) | bytes | FILE.json (a Hugging Face tokenizer.json)
  --append-eod          append the end-of-document id (<|endoftext|>, 0 for neox-20b) after each document
  --json                machine-readable summary
`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP);
    if (sub) return 0;
    throw InputError.field('data', 'subcommand', 'preprocess (none given)');
  }
  if (sub !== 'preprocess') throw InputError.field('data', 'subcommand', 'preprocess', sub);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      input: { type: 'string', multiple: true },
      'output-prefix': { type: 'string' },
      tokenizer: { type: 'string' },
      'append-eod': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const inputs = values.input ?? [];
  if (inputs.length === 0) throw InputError.field('', '--input', 'at least one input file (.jsonl or text)');
  if (inputs.includes('')) throw InputError.field('', '--input', 'a file path', '');
  const prefix = values['output-prefix'];
  if (!prefix) throw InputError.field('', '--output-prefix', 'an output path prefix (writes PREFIX_text_document.bin and .idx)');
  if (/[/\\]$/.test(prefix)) throw InputError.field('', '--output-prefix', 'a path prefix such as data/mydataset, not a directory (writes PREFIX_text_document.bin and .idx)', prefix);
  const tok = loadTokenizer(values.tokenizer ?? 'neox-20b');
  const appendEod = values['append-eod'] ?? false;
  if (appendEod && tok.eod === undefined) {
    throw InputError.field('', '--append-eod', 'a tokenizer with an end-of-document token <|endoftext|> (neox-20b)', tok.name);
  }

  const documents: Int32Array[][] = [];
  for (const file of inputs) {
    for (const text of readDocuments(file)) documents.push(encodeDocument(tok, text, appendEod));
  }
  const dtype = bestFittingDtype(tok.vocabSize);
  const out = `${prefix}_text_document`;
  const { binBytes, idxBytes } = writeIndexedDataset(out, documents, dtype);
  const tokens = documents.flat().reduce((s, q) => s + q.length, 0);
  const summary = { prefix: out, bin: `${out}.bin`, idx: `${out}.idx`, binBytes, idxBytes, tokenizer: tok.name, dtype, documents: documents.length, sequences: documents.flat().length, tokens, appendEod };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    process.stdout.write(`${inputs.length} input file(s), ${summary.documents} document(s): ${tokens} tokens (${tok.name} tokenizer${appendEod ? ', an end-of-document id after each' : ''})\n`);
    process.stdout.write(`wrote ${summary.bin} (${binBytes} bytes, ${dtype}) and ${summary.idx} (${idxBytes} bytes)\n`);
    process.stdout.write(`train on it: neox-sim train --model <preset> --data-prefix ${out}\n`);
  }
  return 0;
}

/** One sequence per document, the end-of-document id after it if asked (gpt-neox without --split-sentences). */
function encodeDocument(tok: TextTokenizer, text: string, appendEod: boolean): Int32Array[] {
  const ids = tok.encode(text);
  const seq = appendEod ? Int32Array.from([...ids, tok.eod!]) : ids;
  return seq.length > 0 ? [seq] : [];
}

function readDocuments(file: string): string[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw InputError.field(file, '', 'a readable input file (.jsonl or text)', (err as NodeJS.ErrnoException).code ?? String(err));
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw InputError.field(file, '', 'UTF-8 text', 'invalid UTF-8');
  }
  if (!/\.jsonl$/i.test(file)) return [text];
  const docs: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw InputError.field(file, `line ${i + 1}`, 'a JSON object with a "text" string', line.length > 40 ? `${line.slice(0, 37)}...` : line);
    }
    const t = (obj as { text?: unknown } | null)?.text;
    if (typeof t !== 'string') throw InputError.field(file, `line ${i + 1}`, 'a JSON object with a "text" string', obj);
    docs.push(t);
  });
  return docs;
}
