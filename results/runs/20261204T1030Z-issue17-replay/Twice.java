import java.io.PrintWriter;
public class Twice {
    public static void main(String[] a) throws Exception {
        String[] order = a[0].split(",");
        for (String c : order) {
            long s = System.nanoTime();
            io.dpbench.cli.Main.run(new String[]{"replay","--mode","ipvs","--services","1000","--max-conntrack","2000000","--in","/tmp/rp/"+c+".pcap","--out","/tmp/twice/o.pcap"},
                new PrintWriter(new java.io.StringWriter()), new PrintWriter(System.err, true));
            System.out.printf("%s %.3f%n", c, (System.nanoTime()-s)/1e9);
        }
    }
}
