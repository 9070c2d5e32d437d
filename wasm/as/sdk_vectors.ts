// An SDK vector backend as an Extism plugin (modelport/sdk's `VectorMemoryBackendPlugin`, JSON
// exports): repos in the instance's memory, cosine similarity, metadata equality filters.
// Config `mode: "no-ids"` answers results with empty ids (the wrong shape).
import './abort'

import { Host } from '@extism/as-pdk'

import { JSON } from 'assemblyscript-json/assembly'

import { fail, inputJson, output, quote } from './lib/io'

class Item {
  constructor(
    public vector: Array<f64>,
    public metadata: JSON.Obj,
    public content: string | null,
  ) {}
}

let dims: i32 = 0
let mode: string = 'normal'
const repos = new Map<string, Map<string, Item>>()

export function manifest(): i32 {
  return output(
    '{"name":"wasm-vectors","type":"vector-backend","version":"0.2.0","sdkVersion":{"minVersion":1,"maxVersion":1},' +
      '"configSchema":{"type":"object","required":["dims"],"properties":{"dims":{"type":"integer","minimum":1},' +
      '"mode":{"enum":["normal","no-ids"]}}}}',
  )
}

export function init(): i32 {
  const config = inputJson()
  dims = <i32>config.getInteger('dims')!.valueOf()
  const chosen = config.getString('mode')
  if (chosen) mode = chosen.valueOf()
  return 0
}

function numbers(value: JSON.Arr): Array<f64> {
  const items = value.valueOf()
  const out = new Array<f64>(items.length)
  for (let i = 0; i < items.length; i++) {
    const item = items[i]
    out[i] = item.isFloat ? (<JSON.Float>item).valueOf() : <f64>(<JSON.Integer>item).valueOf()
  }
  return out
}

function repo(name: string): Map<string, Item> {
  if (!repos.has(name)) repos.set(name, new Map<string, Item>())
  return repos.get(name)
}

export function vector_upsert(): i32 {
  const input = inputJson()
  const target = repo(input.getString('repoId')!.valueOf())
  const items = input.getArr('items')!.valueOf()
  for (let i = 0; i < items.length; i++) {
    const item = <JSON.Obj>items[i]
    const vector = numbers(item.getArr('vector')!)
    if (vector.length != dims) {
      return fail('invalid_request', 'items[' + i.toString() + '] has ' + vector.length.toString() + ' dimensions; this store holds ' + dims.toString())
    }
    const metadata = item.getObj('metadata')
    const content = item.getString('content')
    target.set(item.getString('id')!.valueOf(), new Item(vector, metadata ? metadata : new JSON.Obj(), content ? content.valueOf() : null))
  }
  return output('null')
}

function cosine(a: Array<f64>, b: Array<f64>): f64 {
  let dot: f64 = 0
  let na: f64 = 0
  let nb: f64 = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  return dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-30)
}

function matches(metadata: JSON.Obj, filter: JSON.Obj | null): bool {
  if (!filter) return true
  const keys = filter.keys
  for (let i = 0; i < keys.length; i++) {
    const wanted = filter.get(keys[i])!
    const have = metadata.get(keys[i])
    if (!have || have.stringify() != wanted.stringify()) return false
  }
  return true
}

export function vector_query(): i32 {
  const input = inputJson()
  const name = input.getString('repoId')!.valueOf()
  if (!repos.has(name)) return output('[]')
  const query = numbers(input.getArr('vector')!)
  const topK = <i32>input.getInteger('topK')!.valueOf()
  const filter = input.getObj('filter')
  const ids = repos.get(name).keys()
  const scored = new Array<string>()
  const scores = new Array<f64>()
  for (let i = 0; i < ids.length; i++) {
    const item = repos.get(name).get(ids[i])
    if (!matches(item.metadata, filter)) continue
    const score = cosine(query, item.vector)
    // Insertion into the best-first list.
    let at = scores.length
    scores.push(score)
    scored.push('')
    while (at > 0 && scores[at - 1] < score) {
      scores[at] = scores[at - 1]
      scored[at] = scored[at - 1]
      at--
    }
    scores[at] = score
    const id = mode == 'no-ids' ? '' : ids[i]
    scored[at] =
      '{"id":' + quote(id) + ',"score":' + score.toString() + ',"metadata":' + item.metadata.stringify() +
      (item.content ? ',"content":' + quote(item.content!) : '') + '}'
  }
  return output('[' + scored.slice(0, topK).join(',') + ']')
}

export function vector_delete(): i32 {
  const input = inputJson()
  const name = input.getString('repoId')!.valueOf()
  if (repos.has(name)) {
    const ids = input.getArr('ids')!.valueOf()
    for (let i = 0; i < ids.length; i++) repos.get(name).delete((<JSON.Str>ids[i]).valueOf())
  }
  return output('null')
}

export function vector_wipe(): i32 {
  repos.delete(inputJson().getString('repoId')!.valueOf())
  return output('null')
}

export function vector_info(): i32 {
  Host.inputString()
  return output('{"backend":"wasm-memory","dims":' + dims.toString() + ',"embedderId":"","location":"local","supportsFilters":true}')
}
