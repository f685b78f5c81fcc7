/*
 * A TEST STAND-IN for Tauri's nsis_tauri_utils NSIS plug-in, used only by
 * scripts/windows/check-installer to compile Tauri's installer script on a
 * machine that cannot download the real DLL (the Tauri bundler fetches it
 * from GitHub and checks its SHA-1). Never shipped, never in a release
 * installer: a real `tauri build` on Windows or with network uses Tauri's
 * own plug-in (github.com/tauri-apps/nsis-tauri-utils).
 *
 * It implements the three calls Tauri's template makes, with the real
 * plug-in's stack contract:
 *   SemverCompare V1 V2  -> pushes 1, 0 or -1 (V1 newer, same, older); a
 *                           version that does not parse is older than one
 *                           that does. Pre-release identifiers compare as
 *                           SemVer 2.0 says; build metadata is ignored here
 *                           (the real one, on the semver crate, orders it).
 *   StrReplace S FROM TO -> pushes S with every FROM replaced by TO.
 *   RunAsUser PROGRAM ARGS -> starts PROGRAM, pushes 0 (started) or 1. The
 *                           real one starts it un-elevated through the
 *                           shell's token; an installer for the current user
 *                           is not elevated anyway.
 *
 * NSIS's plug-in ABI (Contrib/ExDLL/pluginapi.h): each export takes the
 * parent window, the size of an NSIS string, the variables, the stack and
 * extra parameters; arguments are popped in the order they were written.
 * Built for the installer's target with mingw-w64 (see check-installer).
 */
#include <windows.h>
#include <shellapi.h>

typedef struct stack_t {
  struct stack_t *next;
  WCHAR text[1];
} stack_t;

static int g_size;
static stack_t **g_stack;

static void init(int string_size, stack_t **stacktop) {
  g_size = string_size;
  g_stack = stacktop;
}

/* Pops the top string into a new buffer of g_size characters ("" if empty). */
static WCHAR *pop(void) {
  WCHAR *out = (WCHAR *)GlobalAlloc(GPTR, (SIZE_T)g_size * sizeof(WCHAR));
  stack_t *top = g_stack ? *g_stack : NULL;
  if (!out) return NULL;
  if (top) {
    lstrcpynW(out, top->text, g_size);
    *g_stack = top->next;
    GlobalFree(top);
  }
  return out;
}

static void push(const WCHAR *text) {
  stack_t *item;
  if (!g_stack) return;
  item = (stack_t *)GlobalAlloc(GPTR, sizeof(stack_t) + (SIZE_T)g_size * sizeof(WCHAR));
  if (!item) return;
  lstrcpynW(item->text, text, g_size);
  item->next = *g_stack;
  *g_stack = item;
}

/* ---- SemverCompare ---------------------------------------------------- */

/* Reads a numeric identifier (no leading zero unless it is 0) at *s. */
static int number(const WCHAR **s, unsigned long long *value) {
  const WCHAR *p = *s;
  if (*p < L'0' || *p > L'9') return 0;
  if (*p == L'0' && p[1] >= L'0' && p[1] <= L'9') return 0;
  *value = 0;
  while (*p >= L'0' && *p <= L'9') *value = *value * 10 + (unsigned long long)(*p++ - L'0');
  *s = p;
  return 1;
}

static int ident_char(WCHAR c) {
  return (c >= L'0' && c <= L'9') || (c >= L'a' && c <= L'z') || (c >= L'A' && c <= L'Z') || c == L'-';
}

typedef struct {
  unsigned long long core[3];
  const WCHAR *pre; /* the pre-release part, or NULL */
  int pre_len;
} version;

/* Parses MAJOR.MINOR.PATCH[-PRE][+BUILD]; 0 if it is not SemVer. */
static int parse(const WCHAR *s, version *v) {
  int i;
  v->pre = NULL;
  v->pre_len = 0;
  for (i = 0; i < 3; i++) {
    if (!number(&s, &v->core[i])) return 0;
    if (i < 2 && *s++ != L'.') return 0;
  }
  if (*s == L'-') {
    v->pre = ++s;
    while (ident_char(*s) || *s == L'.') s++;
    v->pre_len = (int)(s - v->pre);
    if (v->pre_len == 0) return 0;
  }
  if (*s == L'+') {
    s++;
    if (!ident_char(*s)) return 0;
    while (ident_char(*s) || *s == L'.') s++;
  }
  return *s == 0;
}

static int numeric(const WCHAR *s, int len) {
  int i;
  for (i = 0; i < len; i++)
    if (s[i] < L'0' || s[i] > L'9') return 0;
  return len > 0;
}

/* SemVer 2.0 §11: identifiers left to right; numbers numerically and below
 * words; words in ASCII order; more identifiers win when all else is equal. */
static int compare_pre(const version *a, const version *b) {
  const WCHAR *p = a->pre, *q = b->pre, *pe = a->pre + a->pre_len, *qe = b->pre + b->pre_len;
  if (!a->pre || !b->pre) return a->pre ? -1 : b->pre ? 1 : 0;
  while (p < pe && q < qe) {
    const WCHAR *pn = p, *qn = q;
    int pl, ql, i;
    while (pn < pe && *pn != L'.') pn++;
    while (qn < qe && *qn != L'.') qn++;
    pl = (int)(pn - p);
    ql = (int)(qn - q);
    if (numeric(p, pl) && numeric(q, ql)) {
      if (pl != ql) return pl < ql ? -1 : 1;
    } else if (numeric(p, pl) != numeric(q, ql)) {
      return numeric(p, pl) ? -1 : 1;
    }
    for (i = 0; i < pl && i < ql; i++)
      if (p[i] != q[i]) return p[i] < q[i] ? -1 : 1;
    if (pl != ql) return pl < ql ? -1 : 1;
    p = pn < pe ? pn + 1 : pn;
    q = qn < qe ? qn + 1 : qn;
  }
  return p < pe ? 1 : q < qe ? -1 : 0;
}

static int semver_compare(const WCHAR *s1, const WCHAR *s2) {
  version a, b;
  int ok1 = parse(s1, &a), ok2 = parse(s2, &b), i;
  if (!ok1 || !ok2) return ok1 ? 1 : ok2 ? -1 : 0;
  for (i = 0; i < 3; i++)
    if (a.core[i] != b.core[i]) return a.core[i] < b.core[i] ? -1 : 1;
  return compare_pre(&a, &b);
}

__declspec(dllexport) void SemverCompare(HWND parent, int string_size, WCHAR *variables, stack_t **stacktop,
                                         void *extra) {
  WCHAR *v1, *v2;
  int result;
  (void)parent, (void)variables, (void)extra;
  init(string_size, stacktop);
  v1 = pop();
  v2 = pop();
  if (!v1 || !v2) return;
  result = semver_compare(v1, v2);
  push(result > 0 ? L"1" : result < 0 ? L"-1" : L"0");
  GlobalFree(v1);
  GlobalFree(v2);
}

/* ---- StrReplace ------------------------------------------------------- */

/* Whether s starts with prefix (s ends at its NUL, so no read past it). */
static int starts_with(const WCHAR *s, const WCHAR *prefix) {
  while (*prefix && *s == *prefix) s++, prefix++;
  return *prefix == 0;
}

__declspec(dllexport) void StrReplace(HWND parent, int string_size, WCHAR *variables, stack_t **stacktop,
                                      void *extra) {
  WCHAR *text, *from, *to, *out;
  int from_len, to_len, n = 0;
  const WCHAR *p;
  (void)parent, (void)variables, (void)extra;
  init(string_size, stacktop);
  text = pop();
  from = pop();
  to = pop();
  out = (WCHAR *)GlobalAlloc(GPTR, (SIZE_T)g_size * sizeof(WCHAR));
  if (!text || !from || !to || !out) return;
  from_len = lstrlenW(from);
  to_len = lstrlenW(to);
  for (p = text; *p && n < g_size - 1;) {
    if (from_len && starts_with(p, from)) {
      int i;
      for (i = 0; i < to_len && n < g_size - 1; i++) out[n++] = to[i];
      p += from_len;
    } else {
      out[n++] = *p++;
    }
  }
  out[n] = 0;
  push(out);
  GlobalFree(text);
  GlobalFree(from);
  GlobalFree(to);
  GlobalFree(out);
}

/* ---- RunAsUser -------------------------------------------------------- */

__declspec(dllexport) void RunAsUser(HWND parent, int string_size, WCHAR *variables, stack_t **stacktop,
                                     void *extra) {
  WCHAR *program, *arguments;
  HINSTANCE started;
  (void)variables, (void)extra;
  init(string_size, stacktop);
  program = pop();
  arguments = pop();
  if (!program || !arguments) return;
  started = ShellExecuteW(parent, NULL, program, arguments[0] ? arguments : NULL, NULL, SW_SHOWNORMAL);
  push((INT_PTR)started > 32 ? L"0" : L"1");
  GlobalFree(program);
  GlobalFree(arguments);
}
