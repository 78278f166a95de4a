package io.dpbench.cli;

import io.dpbench.conntrack.ConntrackRecord;
import io.dpbench.conntrack.ConntrackTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A conntrack table written before the table kept one entry per connection (its reply tuples as second, index
 * entries: written by replay at f635301, 92 connections, with its {@code conntrack list} kept beside it) still lists
 * the same, and a writer opening it keeps every connection, found from both directions.
 */
class OldTableLayoutTest
{
    @TempDir
    Path dir;

    private final CliHarness cli = new CliHarness();

    @Test
    void anOldTableListsAsBeforeAndAWriterKeepsEveryConnection() throws Exception
    {
        final Path table = dir.resolve("old.dat");
        try (InputStream in = new GZIPInputStream(getClass().getResourceAsStream("/conntrack/old-layout-table.dat.gz")))
        {
            Files.copy(in, table);
        }
        try (InputStream in = getClass().getResourceAsStream("/conntrack/old-layout-table.dat.lock"))
        {
            Files.copy(in, dir.resolve("old.dat.lock"));
        }
        final String expected;
        try (InputStream in = getClass().getResourceAsStream("/conntrack/old-layout-table.list"))
        {
            expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }

        assertThat(cli.run("conntrack", "--table", table.toString(), "--max-conntrack", "1024", "list"))
            .as(cli.err.toString()).isZero();
        assertThat(cli.out.toString()).isEqualTo(expected);

        final List<long[]> connections = new ArrayList<>();
        try (ConntrackTable writer = ConntrackTable.persisted(table, 1024))
        {
            assertThat(writer.primaryCount()).isEqualTo(92);
            writer.forEachConnection(r -> connections.add(
                new long[]{r.originalAddresses(), r.originalPorts(), r.replyAddresses(), r.replyPorts()}));
        }
        assertThat(connections).hasSize(92);
        try (ConntrackTable reopened = ConntrackTable.persisted(table, 1024))
        {
            assertThat(reopened.primaryCount()).isEqualTo(92);
            final ConntrackRecord out = new ConntrackRecord();
            for (final long[] c : connections)
            {
                assertThat(reopened.lookup(c[0], c[1], out)).isEqualTo(ConntrackTable.ORIGINAL);
                assertThat(reopened.lookup(c[2], c[3], out)).isEqualTo(ConntrackTable.REPLY);
                assertThat(out.originalPorts()).isEqualTo(c[1]);
            }
        }
        final CliHarness again = new CliHarness();
        assertThat(again.run("conntrack", "--table", table.toString(), "--max-conntrack", "1024", "list")).isZero();
        assertThat(again.out.toString()).isEqualTo(expected);
    }
}
