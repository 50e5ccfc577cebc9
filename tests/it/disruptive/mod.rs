//! Tests that stop, kill or pause a component of the local stack. Every other stack test would see
//! those outages, so `scripts/test.sh` runs this module on its own, one test at a time, after the
//! rest (its tests' names all start with `disruptive::`). The leader-move tests need the stack's
//! three-broker mode (`LOCAL_STACK_BROKERS=3`) and fail with that instruction on a single broker.

mod faults;
mod log_lines;
mod three_brokers;
