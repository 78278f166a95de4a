import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

public class Crash_194fac1ea568dd002c2c99540b2c86433597b5ec {
    static final String base64Bytes = String.join("", "ewogICJhcGlWZXJzaW9uIjogInYxIiwgImtpbmQiOiAiTGlzdExvYWRCYWxcbmNlciIsICJjbHVzdGVySVAiOiAgImV4YW1sZS5jb20ifX0sCiAgICB7ImFwaVZlciI6IG5lIjogInNob3AifSwKICAgICAic3BlYyI6IFxFXVxFXV1dXV1deyJ0eXBlIjogIkxvYWRCYWxcbmNlciIsICJjbHVzdGVySVAiOiAgImV4YW1sZS5jb20ifX0sCiAgICB7ImFwaVZlciI6IFtdLCAicG9ydHMiOiBbXX0KICBdCn0K");

    public static void main(String[] args) throws Throwable {
        Crash_194fac1ea568dd002c2c99540b2c86433597b5ec.class.getClassLoader().setDefaultAssertionStatus(true);
        try {
            Method fuzzerInitialize = io.dpbench.fuzz.KubectlJsonTarget.class.getMethod("fuzzerInitialize");
            fuzzerInitialize.invoke(null);
        } catch (NoSuchMethodException ignored) {
            try {
                Method fuzzerInitialize = io.dpbench.fuzz.KubectlJsonTarget.class.getMethod("fuzzerInitialize", String[].class);
                fuzzerInitialize.invoke(null, (Object) args);
            } catch (NoSuchMethodException ignored1) {
            } catch (IllegalAccessException | InvocationTargetException e) {
                e.printStackTrace();
                System.exit(1);
            }
        } catch (IllegalAccessException | InvocationTargetException e) {
            e.printStackTrace();
            System.exit(1);
        }
        byte[] input = java.util.Base64.getDecoder().decode(base64Bytes);
        io.dpbench.fuzz.KubectlJsonTarget.fuzzerTestOneInput(input);
    }
}