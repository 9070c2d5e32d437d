// OpenAI wire-format logic shared by the v2 and v1 provider fixtures.
import { JSON } from 'assemblyscript-json/assembly'

import { quote, str } from './io'

export const SCHEMA = '{"type":"object","properties":{' +
  '"api_key":{"type":"string"},"base_url":{"type":"string","pattern":"^https?://"},' +
  '"model":{"type":"string","minLength":1},"embedding_model":{"type":"string"},' +
  '"max_tokens":{"type":"integer","minimum":1},"temperature":{"type":"number","minimum":0,"maximum":2},' +
  '"system":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]},' +
  '"tool_choice":{"oneOf":[{"enum":["auto","none","required"]},{"type":"object","required":["type","function"]}]}' +
  '},"additionalProperties":false}'

export function baseUrl(cfg: JSON.Obj): string {
  const url = str(cfg, 'base_url')
  let base = url === null ? 'https://api.openai.com/v1' : url
  while (base.endsWith('/')) base = base.slice(0, base.length - 1)
  return base
}

/** The text parts of a QueryMT message content array, joined. */
export function textOf(parts: JSON.Arr | null): string {
  if (parts === null) return ''
  let text = ''
  const values = parts.valueOf()
  for (let i = 0; i < values.length; i++) {
    const part = <JSON.Obj>values[i]
    const type = str(part, 'type')
    if (type !== null && type == 'text') {
      const t = str(part, 'text')
      if (t !== null) text += t
    }
  }
  return text
}

/** QueryMT messages (`{role:"User"|"Assistant",content:[…]}`) → OpenAI `messages`. */
function messages(cfg: JSON.Obj, input: JSON.Arr | null): string {
  const out = new Array<string>()
  const system = cfg.getValue('system')
  if (system !== null && system.isString) out.push('{"role":"system","content":' + quote((<JSON.Str>system).valueOf()) + '}')
  if (system !== null && system.isArr) {
    const items = (<JSON.Arr>system).valueOf()
    for (let i = 0; i < items.length; i++) out.push('{"role":"system","content":' + quote((<JSON.Str>items[i]).valueOf()) + '}')
  }
  if (input === null) return '[' + out.join(',') + ']'
  const list = input.valueOf()
  for (let i = 0; i < list.length; i++) {
    const message = <JSON.Obj>list[i]
    const role = str(message, 'role')
    const content = message.getArr('content')
    const parts = content === null ? new Array<JSON.Value>() : content.valueOf()
    if (role !== null && role == 'Assistant') {
      const calls = new Array<string>()
      for (let j = 0; j < parts.length; j++) {
        const part = <JSON.Obj>parts[j]
        const type = str(part, 'type')
        if (type !== null && type == 'tool_use') {
          const args = part.getValue('arguments')
          calls.push('{"id":' + quote(str(part, 'id')!) + ',"type":"function","function":{"name":' + quote(str(part, 'name')!) +
            ',"arguments":' + quote(args === null ? '{}' : args.stringify()) + '}}')
        }
      }
      const text = textOf(content)
      let entry = '{"role":"assistant","content":' + (text.length == 0 && calls.length > 0 ? 'null' : quote(text))
      if (calls.length > 0) entry += ',"tool_calls":[' + calls.join(',') + ']'
      out.push(entry + '}')
    } else {
      let userText = ''
      for (let j = 0; j < parts.length; j++) {
        const part = <JSON.Obj>parts[j]
        const type = str(part, 'type')
        if (type !== null && type == 'tool_result') {
          out.push('{"role":"tool","tool_call_id":' + quote(str(part, 'id')!) + ',"content":' + quote(textOf(part.getArr('content'))) + '}')
        } else if (type !== null && type == 'text') {
          userText += str(part, 'text')!
        }
      }
      if (userText.length > 0) out.push('{"role":"user","content":' + quote(userText) + '}')
    }
  }
  return '[' + out.join(',') + ']'
}

export function chatBody(input: JSON.Obj, stream: bool): string {
  const cfg = input.getObj('cfg')!
  const model = str(cfg, 'model')
  let body = '{"model":' + quote(model === null ? '' : model) + ',"messages":' + messages(cfg, input.getArr('messages'))
  const tools = input.getValue('tools')
  if (tools !== null && tools.isArr && (<JSON.Arr>tools).valueOf().length > 0) {
    body += ',"tools":' + tools.stringify()
    const choice = cfg.getValue('tool_choice')
    if (choice !== null) body += ',"tool_choice":' + choice.stringify()
  }
  const maxTokens = cfg.getInteger('max_tokens')
  if (maxTokens !== null) body += ',"max_tokens":' + maxTokens.valueOf().toString()
  const temperature = cfg.getValue('temperature')
  if (temperature !== null) body += ',"temperature":' + temperature.stringify()
  if (stream) body += ',"stream":true,"stream_options":{"include_usage":true}'
  return body + '}'
}

function finishReason(reason: string | null): string {
  if (reason === null) return 'null'
  if (reason == 'stop') return '"Stop"'
  if (reason == 'length') return '"Length"'
  if (reason == 'tool_calls') return '"ToolCalls"'
  if (reason == 'content_filter') return '"ContentFilter"'
  return '"Other"'
}

/** An OpenAI `chat.completion` → QueryMT ChatResponse JSON. */
export function chatResponse(text: string): string {
  const completion = <JSON.Obj>JSON.parse(text)
  const choices = completion.getArr('choices')
  if (choices === null || choices.valueOf().length == 0) return ''
  const choice = <JSON.Obj>choices.valueOf()[0]
  const message = choice.getObj('message')!
  const content = message.getValue('content')
  let out = '{"text":' + (content === null || content.isNull ? 'null' : content.stringify())
  const calls = message.getArr('tool_calls')
  if (calls !== null && calls.valueOf().length > 0) {
    const items = calls.valueOf()
    const mapped = new Array<string>()
    for (let i = 0; i < items.length; i++) {
      const call = <JSON.Obj>items[i]
      const fn = call.getObj('function')!
      mapped.push('{"id":' + quote(str(call, 'id')!) + ',"type":"function","function":{"name":' + quote(str(fn, 'name')!) +
        ',"arguments":' + quote(str(fn, 'arguments')!) + '}}')
    }
    out += ',"tool_calls":[' + mapped.join(',') + ']'
  }
  const usage = completion.getObj('usage')
  if (usage !== null) {
    out += ',"usage":{"input_tokens":' + usage.getInteger('prompt_tokens')!.valueOf().toString() +
      ',"output_tokens":' + usage.getInteger('completion_tokens')!.valueOf().toString() + '}'
  }
  return out + ',"finish_reason":' + finishReason(str(choice, 'finish_reason')) + '}'
}

export function embedBody(input: JSON.Obj): string {
  const cfg = input.getObj('cfg')!
  const embeddingModel = str(cfg, 'embedding_model')
  const model = embeddingModel !== null ? embeddingModel : str(cfg, 'model')
  return '{"model":' + quote(model === null ? '' : model) + ',"input":' + input.getArr('inputs')!.stringify() + ',"encoding_format":"float"}'
}

/** An embedding list → `[[f32]]`, ordered by index. */
export function embeddings(text: string): string {
  const data = (<JSON.Obj>JSON.parse(text)).getArr('data')!.valueOf()
  const vectors = new Array<string>(data.length)
  for (let i = 0; i < data.length; i++) {
    const item = <JSON.Obj>data[i]
    vectors[<i32>item.getInteger('index')!.valueOf()] = item.getArr('embedding')!.stringify()
  }
  return '[' + vectors.join(',') + ']'
}

export function completeBody(input: JSON.Obj): string {
  const cfg = input.getObj('cfg')!
  const req = input.getObj('req')!
  const model = str(cfg, 'model')
  let body = '{"model":' + quote(model === null ? '' : model) + ',"prompt":' + quote(str(req, 'prompt')!)
  const maxTokens = req.getInteger('max_tokens')
  if (maxTokens !== null) body += ',"max_tokens":' + maxTokens.valueOf().toString()
  return body + '}'
}

export function completion(text: string): string {
  const choices = (<JSON.Obj>JSON.parse(text)).getArr('choices')!.valueOf()
  return '{"text":' + quote(str(<JSON.Obj>choices[0], 'text')!) + '}'
}

export function models(text: string): string {
  const data = (<JSON.Obj>JSON.parse(text)).getArr('data')!.valueOf()
  const ids = new Array<string>(data.length)
  for (let i = 0; i < data.length; i++) ids[i] = quote(str(<JSON.Obj>data[i], 'id')!)
  return '[' + ids.join(',') + ']'
}
