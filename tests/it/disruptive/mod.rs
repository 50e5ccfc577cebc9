//! Tests that stop, kill or pause a component of the local stack. Every other stack test would see
//! those outages, so `scripts/test.sh` runs this module on its own, one test at a time, after the
//! rest (its tests' names all start with `disruptive::`).

mod faults;
