;; A raw Extism plugin that tries to hold more memory than its cap: a large initial memory (1000
;; pages) grown by as much again, twice, and a table without a maximum grown by a million
;; elements at a time. Answers are 8-byte little-endian numbers.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory 1000)
  (table 1 funcref)

  (func $answer (param $value i64) (result i32)
    (local $out i64)
    (local.set $out (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $out) (local.get $value))
    (call $output_set (local.get $out) (i64.const 8))
    (i32.const 0))

  ;; Grows the table a million elements at a time until refused; answers its size.
  (func (export "grow_table") (result i32)
    (block $refused
      (loop $more
        (br_if $refused (i32.eq (table.grow (ref.null func) (i32.const 1000000)) (i32.const -1)))
        (br $more)))
    (call $answer (i64.extend_i32_u (table.size))))

  ;; Grows memory by 1000 pages (to twice the initial size); answers the size in pages.
  (func (export "grow_memory_1000") (result i32)
    (drop (memory.grow (i32.const 1000)))
    (call $answer (i64.extend_i32_u (memory.size))))

)
