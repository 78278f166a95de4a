/**
 * Fuzz targets: one small class per input format, each a {@link io.dpbench.fuzz.FuzzTarget} with Jazzer's static
 * entry point {@code fuzzerTestOneInput(byte[])}.
 *
 * <p>The property every target checks: no exception escapes, every input gets exactly one verdict (a parsed result, a
 * counted {@code Verdict} or drop reason) or exactly one error of the format's documented type whose message is one
 * non-blank line, and no input takes longer than the time bound (a hang is a finding). A target returns normally
 * when the property holds and throws otherwise ({@link io.dpbench.fuzz.PropertyViolation} for a wrong verdict; an
 * unexpected exception is let through as it is).
 *
 * <p>Two engines drive the same targets: {@code scripts/fuzz} runs Jazzer's standalone driver (libFuzzer,
 * coverage-guided over {@code io.dpbench.**}, {@code -timeout} for hangs) for long runs; {@link
 * io.dpbench.fuzz.FuzzTest} replays the corpus and runs a short seeded mutational campaign ({@link
 * io.dpbench.fuzz.Mutator}, a watchdog for hangs) in every {@code mvn verify}. The corpus lives in
 * {@code src/test/resources/fuzz/<target>/}: {@code seed-*} files are small valid inputs, {@code crash-*} and
 * {@code timeout-*} files are reproducers of past findings, replayed as regression inputs.
 */
package io.dpbench.fuzz;
