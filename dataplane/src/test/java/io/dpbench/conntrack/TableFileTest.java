package io.dpbench.conntrack;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Conntrack table files under faults: a second writer fails at once (it used to block forever behind Chronicle's
 * lock), readers never create or change a file, a damaged file is named as damaged at once (a header of zeros used
 * to stall 60 s), and a table closed cleanly reopens without Chronicle's recovery (whose log lines every start
 * printed) while one whose writer died is recovered with its entries.
 */
class TableFileTest
{
    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void aSecondWriterInAnotherProcessFailsAtOnce() throws Exception
    {
        final Path file = dir.resolve("ct");
        final String java = ProcessHandle.current().info().command().orElse("java");
        final List<String> command = new ArrayList<>(List.of(java));
        command.addAll(jvmFlags());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), TableHolder.class.getName(), file.toString()));
        final Process holder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try
        {
            final String line = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
            assertThat(line).as("the holder process started").startsWith("holding");
            final long start = System.nanoTime();
            assertThatThrownBy(() -> ConntrackTable.persisted(file, 1024))
                .isInstanceOf(TableFile.TableFileException.class)
                .hasMessageContaining("table in use by another process");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
            // a reader may still look at it while the writer holds it
            try (ConntrackTable reader = ConntrackTable.attach(file, 1024))
            {
                assertThat(reader.primaryCount()).isZero();
            }
        }
        finally
        {
            holder.getOutputStream().close();
            assertThat(holder.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(Files.readString(TableFile.lockFileOf(file)).strip()).isEqualTo("clean");
        try (ConntrackTable again = ConntrackTable.persisted(file, 1024))
        {
            assertThat(again.recovered()).isFalse();
        }
    }

    private static List<String> jvmFlags()
    {
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("--add-") || a.startsWith("-D")).toList();
    }

    @Test
    void aSecondWriterInThisProcessFailsAtOnceToo() throws Exception
    {
        final Path file = dir.resolve("ct");
        try (ConntrackTable first = ConntrackTable.persisted(file, 1024))
        {
            assertThatThrownBy(() -> ConntrackTable.persisted(file, 1024))
                .hasMessageContaining("table in use by another process");
        }
    }

    @Test
    void readersNeverCreateOrChangeAFile() throws Exception
    {
        final Path empty = Files.createFile(dir.resolve("empty"));
        assertThatThrownBy(() -> ConntrackTable.attach(empty, 1024))
            .isInstanceOf(TableFile.TableFileException.class).hasMessageContaining("empty file, not a conntrack table");
        assertThat(Files.size(empty)).isZero();
        assertThatThrownBy(() -> ConntrackTable.attach(dir.resolve("absent"), 1024))
            .isInstanceOf(java.nio.file.NoSuchFileException.class);
        assertThat(dir.resolve("absent")).doesNotExist();

        final Path table = dir.resolve("ct");
        try (ConntrackTable t = ConntrackTable.persisted(table, 1024))
        {
            assertThat(t.recovered()).isFalse();
        }
        final byte[] before = Files.readAllBytes(table);
        try (ConntrackTable reader = ConntrackTable.attach(table, 1024))
        {
            reader.primaryCount();
        }
        assertThat(Files.readAllBytes(table)).isEqualTo(before);
    }

    @Test
    @Timeout(10)
    void aDamagedTableIsNamedAsDamagedAtOnce() throws Exception
    {
        final Path zeros = dir.resolve("zeros");
        Files.write(zeros, new byte[1 << 20]);
        for (final boolean writer : new boolean[]{false, true})
        {
            assertThatThrownBy(() -> open(zeros, writer))
                .isInstanceOf(TableFile.TableFileException.class).hasMessageContaining("damaged");
        }
        final Path text = dir.resolve("text");
        Files.writeString(text, "this is not a conntrack table, but it is long enough to have a header\n");
        assertThatThrownBy(() -> ConntrackTable.attach(text, 1024)).hasMessageContaining("not a conntrack table");
        final Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[5]);
        assertThatThrownBy(() -> ConntrackTable.attach(tiny, 1024)).hasMessageContaining("shorter than a Chronicle Map header");

        // a table cut short after its writer died: named as damaged, not silently rebuilt empty by the recovery
        final Path table = dir.resolve("ct");
        try (ConntrackTable t = ConntrackTable.persisted(table, 1024))
        {
            t.primaryCount();
        }
        final byte[] whole = Files.readAllBytes(table);
        Files.write(table, java.util.Arrays.copyOf(whole, whole.length / 2));
        Files.writeString(TableFile.lockFileOf(table), "open\n"); // as a writer killed with SIGKILL leaves it
        assertThatThrownBy(() -> ConntrackTable.persisted(table, 1024))
            .isInstanceOf(TableFile.TableFileException.class).hasMessageContaining("damaged");
        assertThat(Files.size(table)).isEqualTo(whole.length / 2);
        assertThat(Files.readString(TableFile.lockFileOf(table)).strip()).isEqualTo("open");
    }

    private static void open(final Path file, final boolean writer) throws Exception
    {
        try (ConntrackTable t = writer ? ConntrackTable.persisted(file, 1024) : ConntrackTable.attach(file, 1024))
        {
            t.primaryCount();
        }
    }

    @Test
    void onlyATableWhoseWriterDiedIsRecovered() throws Exception
    {
        final Path table = dir.resolve("ct");
        try (ConntrackTable t = ConntrackTable.persisted(table, 1024))
        {
            assertThat(t.recovered()).isFalse();
        }
        try (ConntrackTable t = ConntrackTable.persisted(table, 1024))
        {
            assertThat(t.recovered()).as("closed cleanly: opened as it is").isFalse();
        }
        Files.writeString(TableFile.lockFileOf(table), "open\n");
        try (ConntrackTable t = ConntrackTable.persisted(table, 1024))
        {
            assertThat(t.recovered()).as("its writer died holding it").isTrue();
        }
        assertThat(Files.readString(TableFile.lockFileOf(table)).strip()).isEqualTo("clean");
    }
}
