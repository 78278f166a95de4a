import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

public class Crash_7ea7141ded8d4fcf076fa485d2dc7d6190fc5fa2 {
    static final String base64Bytes = String.join("", "ewogICJhcGlWZXJzaW9uIjogInYxIiwgImtpbmQiOiAiTGlzdCIsCiAgIml0ZW1zIjogWwogICAgeyJhcGlWZXJzaW9uIjogInYxIiwgImtpbmQiOiAiU2VydmljZSIsCiAgICAgIm1ldGFkYXRhIjogeyJuYW1lIjogIndlYiIsICJuYW1lc3BhY2UiOiAic2hvcCJ9LAogICAgICJzcGVjIjogeyJ0eXBlIjogIkxvYWRCYWxcbmNlciIsICJjbHVzdGVySVAiOiAiMTAuOTYuMTAuMTAiLCAiY2x1c3RlcklQcyI6IFsiMTAuOTYuMTAuMTAiXSwKICAgICAgICAgICAgICAiZXh0ZXJuYWxUcmFmZmljUG9saWN5IjogIkxvY2FsIiwgImhlYWx0aENoZWNrTm9kZVBvcnQiOiAzMTAwMCwKICAic2Vzc2lvbkFmZmluaXR5IjogIk5vbmUiLCAic2Vzc2lvbkFmZmluaXR5Q29uZmlnIjogeyJjbGllbnRJUCI6IHsidGltZW91dFNlY29uZHMiOiA2MDB9fSwKICAgICAgICAgICAgICAicG9ydHMiOiBbeyJuYW1lIjogImh0dHAiLCAicHJvdG9jb2wiOiAiVENQIiwgInBvcnQiOiA4MCwgInRhcmdldFBvclQiOiAiaHR0cC1hbHQiLCAibm9kZVBvcnQiOiA2MDE2MH1dfSwKICAgICAic3RhdHVzIjogeyJsb2FkQmFsYW5jZXIiOiB7ImluZ3Jlc3MiOiBbeyJpcCI6ICIxOTguNTEuMTAwLjcifSwgeyJob3N0bmFtZSI6ICJsYi5leGFtcGxlIn1dfX19LAogICAgeyJhcGlWZXJzaW9uIjogInYxIiwgImtpbmQiOiAiU2VydmljZSIsICJtZXRhZGF0YSI6IHsibmFtZSI6ICJkYiIsICJuYW1lc3BhY2UiOiAic2hvcCJ9LAogICAgICJzcGVjIjogeyJjbHVzdGVySVAiOiAiMDUuOTYuMTAuMTAiLCAicG9ydHMiOiBbeyJwb3J0IjogNTQzMn1dfX0sCiAgICB7ImFwaVZlcnNpb24iOiAidjEiLCAia2luZCI6ICJTZXJ2aWNlIiwgIm1ldGFkYXRhIjogeyJuYW1lIjogImV4dCIsICJuYW1lc3BhY2UiOiAic2hvcCJ9LAogICAgICJzcGVjIjogeyJ0eXBlIjogIkV4dGVybmFsTmFtZSIsICJleHRlcm5CYWxhbmNlclNvdXJjZVJhbmdlcyI6IFsiIDIwMy4wLjExMy4wMDAvMjUiXSwKICAgICAgICAgICAgICAic2Vzc2lvbkFmZmluaXR5IjogIk5vbmUiLCAic2Vzc2lvbkFmZmluaXR5Q29uZmlnIjogeyJjbGllbnRJUCI6IHsidGltZW91dFNlY29uZHMiOiA2MDB9fSwKICAgICAgICAgICAgICAicG9ydHMiOiBbeyJuYW1lIjogImh0dHAiLCAicHJvdG9jb2wiOiAiVENQIiwgInBvcnQiOiA4MCwgInRhcmdldFBvclQiOiAiaHR0cC1hbHQiLCAibm9kZVBvcnQiOiA2MDE2MH1dfSwKICAgICAic3RhdHVzIjogeyJsb2FkQmFsYW5jZXIiOiB7ImluZ3Jlc3MiOiBbeyJpcCI6ICIxOTguNTEuMTAwLjcifSwgeyJob3N0bmFtZSI6ICJsYi5leGFtcGxlIn1dfX19LAogICAgeyJhcGlWZXJzaW9uIjogInYxIiwgImtpbmQiOiAiU2VydmljZSIsICJtZXRhZGF0YSI6IHsibmFtZSI6ICJkYiIsICJuYW1lc3BhY2UiOiAic2hvcCJ9LAogICAgICJzcGVjIjogeyJjbHVzdGVySVAiOiAiMDUuOTYuMTAuMTAiLCAicG9ydHMiOiBbeyJwb3J0IjogNTQzMn1dfX0sCiAgICB7ImFwaVZlcnNpb24iOiAidjEiLCAia2luZCI6ICJTZXJ2aWNlIiwgIm1ldGFkYXRhIjogeyJuYW1lIjogImV4dCIsICJuYW1lc3BhY2FsTmFtZSI6ICJleGFtcGxlLmNvbSJ9fSwKICAgIHsiYXBpVmVyc2lvbiI6IHsibmFtZSI6ICJ3ZWItdjYiLCAibmFtZXNwYWNlIjogInNob3AiLCAibGFiZWxzIjogeyJrdWJlcm5ldGVzLmlvL3NlcnZpY2UtbmFtZSI6ICJ3ZWIifX0sCiAgICAgImFkZHJlc3NUeXBlIjogIklQdjYiLCAiZW5kcG9pbnRzIjogW10sICJwb3J0cyI6IFtdfQogIF0KfQo=");

    public static void main(String[] args) throws Throwable {
        Crash_7ea7141ded8d4fcf076fa485d2dc7d6190fc5fa2.class.getClassLoader().setDefaultAssertionStatus(true);
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