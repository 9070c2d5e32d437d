// A JSON syntax check. AssemblyScript cannot catch exceptions, and the JSON library aborts (traps)
// on bad input, so untrusted text is checked first: invalid JSON becomes a parse_error, not a trap.

class Checker {
  i: i32 = 0
  constructor(public text: string) {}

  peek(): i32 {
    return this.i < this.text.length ? this.text.charCodeAt(this.i) : -1
  }

  space(): void {
    let c = this.peek()
    while (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) {
      this.i++
      c = this.peek()
    }
  }

  literal(word: string): bool {
    if (this.text.substr(this.i, word.length) != word) return false
    this.i += word.length
    return true
  }

  str(): bool {
    this.i++ // opening quote
    while (this.i < this.text.length) {
      const c = this.text.charCodeAt(this.i++)
      if (c == 0x22) return true
      if (c < 0x20) return false
      if (c == 0x5c) {
        const e = this.peek()
        this.i++
        if (e == 0x75) {
          for (let k = 0; k < 4; k++) {
            const h = this.peek()
            this.i++
            const hex = (h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66)
            if (!hex) return false
          }
        } else if (e != 0x22 && e != 0x5c && e != 0x2f && e != 0x62 && e != 0x66 && e != 0x6e && e != 0x72 && e != 0x74) {
          return false
        }
      }
    }
    return false
  }

  digits(): bool {
    const start = this.i
    let c = this.peek()
    while (c >= 0x30 && c <= 0x39) {
      this.i++
      c = this.peek()
    }
    return this.i > start
  }

  num(): bool {
    if (this.peek() == 0x2d) this.i++
    if (!this.digits()) return false
    if (this.peek() == 0x2e) {
      this.i++
      if (!this.digits()) return false
    }
    const e = this.peek()
    if (e == 0x65 || e == 0x45) {
      this.i++
      const sign = this.peek()
      if (sign == 0x2b || sign == 0x2d) this.i++
      if (!this.digits()) return false
    }
    return true
  }

  items(close: i32, keyed: bool): bool {
    this.i++ // opening bracket
    this.space()
    if (this.peek() == close) {
      this.i++
      return true
    }
    while (true) {
      this.space()
      if (keyed) {
        if (this.peek() != 0x22 || !this.str()) return false
        this.space()
        if (this.peek() != 0x3a) return false
        this.i++
      }
      if (!this.value()) return false
      this.space()
      const c = this.peek()
      this.i++
      if (c == close) return true
      if (c != 0x2c) return false
    }
  }

  value(): bool {
    this.space()
    const c = this.peek()
    if (c == 0x7b) return this.items(0x7d, true)
    if (c == 0x5b) return this.items(0x5d, false)
    if (c == 0x22) return this.str()
    if (c == 0x74) return this.literal('true')
    if (c == 0x66) return this.literal('false')
    if (c == 0x6e) return this.literal('null')
    return this.num()
  }
}

/** Whether `text` is one JSON value (with optional surrounding whitespace). */
export function isValidJson(text: string): bool {
  const checker = new Checker(text)
  if (!checker.value()) return false
  checker.space()
  return checker.i == text.length
}
