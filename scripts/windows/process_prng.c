/*
 * A stand-in for bcryptprimitives.dll's ProcessPrng, for Wine 8 (Debian 12)
 * only: Wine 8 does not have it, and Rust's standard library (1.78 and
 * newer) imports it for every Windows program, which then exits with status
 * 53 before printing anything. Windows 10 and 11 have it; Wine 9 too.
 * scripts/test-windows builds this with mingw and copies it into the test's
 * own Wine prefix, never onto a real Windows system.
 *
 * It answers with RtlGenRandom (advapi32's SystemFunction036), which Wine
 * implements over the host's random source.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
