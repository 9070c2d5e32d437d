;; A raw Extism plugin written in WAT: a well-behaved `echo`, and exports that misbehave on purpose
;; (loop forever, trap three ways, grow memory without end, set an output of 300 MiB). Extism loads WAT text directly.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory 1)

  (func (export "echo") (result i32)
    (local $n i64) (local $i i64) (local $out i64)
    (local.set $n (call $input_length))
    (local.set $out (call $alloc (local.get $n)))
    (block $done
      (loop $copy
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (call $store_u8 (i64.add (local.get $out) (local.get $i)) (call $input_load_u8 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $copy)))
    (call $output_set (local.get $out) (local.get $n))
    (i32.const 0))

  (func (export "spin") (result i32)
    (loop $forever (br $forever))
    (i32.const 0))

  (func (export "unreachable") (result i32)
    unreachable)

  (func $overflow (export "overflow") (result i32)
    (i32.add (call $overflow) (i32.const 1)))

  (func (export "out_of_bounds") (result i32)
    (i32.load (i32.const 0x7ffffff0)))

  (func (export "huge_output") (result i32)
    (call $output_set (call $alloc (i64.const 314572800)) (i64.const 314572800))
    (i32.const 0))

  (func (export "grow") (result i32)
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    (i32.const 0)))
