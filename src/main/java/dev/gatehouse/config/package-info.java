/**
 * The configuration: {@code gatehouse.yaml} parsed once into the immutable records of {@link
 * dev.gatehouse.config.GatehouseConfig}.
 *
 * <p>Entry points: {@link dev.gatehouse.config.ConfigLoader#load} (a file), {@link
 * dev.gatehouse.config.ConfigLoader#parse} (text, with an injectable environment) and {@link
 * dev.gatehouse.config.ConfigLoader#defaults} (no file). Invalid input raises a {@link
 * dev.gatehouse.config.ConfigException} listing every problem with file, line, key and fix.
 *
 * <p>How it works: SnakeYAML composes the text into a node tree (so each value keeps its line),
 * {@code ConfigBinder} walks it section by section through {@code YamlMap} views that know the
 * valid keys (derived from the record components by {@code Keys}), and {@code ParseContext}
 * converts scalars, resolves {@code ${env:…}}/{@code ${file:…}} references and collects problems.
 *
 * <p>What it does not do: it does not read policy or masking rule files (only checks that the globs
 * match), does not create directories, and does not watch the file; hot reload is the caller
 * loading again and swapping the whole snapshot. Keys, defaults and checks are documented in
 * docs/configuration.md.
 */
package dev.gatehouse.config;
