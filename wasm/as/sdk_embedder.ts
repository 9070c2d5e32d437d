// An SDK embedder as an Extism plugin (modelport/sdk's `EmbedderPlugin`, JSON exports): words
// hashed into `dims` signed buckets, L2-normalised. Config `mode`: `wrong-dims` answers vectors
// one number short; a text "trap" traps the instance (the host replaces it and runs `init` again);
// a text "spin" never returns (until the host interrupts it).
import './abort'

import { Host } from '@extism/as-pdk'

import { JSON } from 'assemblyscript-json/assembly'

import { inputJson, output, quote } from './lib/io'

let dims: i32 = 16
let mode: string = 'normal'
let inits: i32 = 0

export function manifest(): i32 {
  return output(
    '{"name":"wasm-embedder","type":"embedder","version":"0.4.0","sdkVersion":{"minVersion":1},' +
      '"configSchema":{"type":"object","properties":{"dims":{"type":"integer","minimum":2},' +
      '"mode":{"enum":["normal","wrong-dims"]}},"additionalProperties":false}}',
  )
}

export function init(): i32 {
  const config = inputJson()
  const size = config.getInteger('dims')
  if (size) dims = <i32>size.valueOf()
  const chosen = config.getString('mode')
  if (chosen) mode = chosen.valueOf()
  inits++
  return 0
}

export function health_check(): i32 {
  return output('{"healthy":true,"message":' + quote(dims.toString() + ' dimensions, wasm, init ' + inits.toString() + 'x') + '}')
}

export function embedder_dims(): i32 {
  return output(dims.toString())
}

/** FNV-1a over the UTF-16 code units of `word`. */
function hash(word: string): u32 {
  let h: u32 = 2166136261
  for (let i = 0; i < word.length; i++) {
    h ^= <u32>word.charCodeAt(i)
    h *= 16777619
  }
  return h
}

function isWordChar(c: i32): bool {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c > 127
}

function embed(text: string, size: i32): string {
  const vector = new Array<f64>(size).fill(0)
  const lower = text.toLowerCase()
  let start = -1
  for (let i = 0; i <= lower.length; i++) {
    const inWord = i < lower.length && isWordChar(lower.charCodeAt(i))
    if (inWord && start < 0) start = i
    if (!inWord && start >= 0) {
      const h = hash(lower.substring(start, i))
      vector[<i32>(h % <u32>size)] += h >> 31 ? 1.0 : -1.0
      start = -1
    }
  }
  let norm: f64 = 0
  for (let i = 0; i < size; i++) norm += vector[i] * vector[i]
  norm = Math.sqrt(norm)
  if (norm == 0) {
    vector[0] = 1
    norm = 1
  }
  const parts = new Array<string>(size)
  for (let i = 0; i < size; i++) parts[i] = (vector[i] / norm).toString()
  return '[' + parts.join(',') + ']'
}

export function embed_texts(): i32 {
  const texts = (<JSON.Obj>JSON.parse(Host.inputString())).getArr('texts')!.valueOf()
  const size = mode == 'wrong-dims' ? dims - 1 : dims
  const vectors = new Array<string>(texts.length)
  for (let i = 0; i < texts.length; i++) {
    const text = (<JSON.Str>texts[i]).valueOf()
    if (text == 'trap') unreachable()
    if (text == 'spin') while (inits > 0) dims = dims | 0
    vectors[i] = embed(text, size)
  }
  return output('[' + vectors.join(',') + ']')
}
