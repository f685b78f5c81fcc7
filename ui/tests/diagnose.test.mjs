// Unit tests of the Diagnose panel's Fix (run `npm test`; compiled modules,
// no DOM): which checks offer a Fix instead of a command to type, and what
// the Fix calls. The typed module (api.js) is the real one; the Tauri bridge
// under it is a fake that records the commands invoked.
import assert from "node:assert/strict";
import { test } from "node:test";

/** The commands invoked through the fake bridge, and what they answer. */
const invoked = [];
const answers = new Map();
globalThis.window = {
  __TAURI__: {
    core: {
      invoke: async (command, args) => {
        invoked.push({ command, args });
        if (!answers.has(command)) throw { kind: "internal", message: `no answer for ${command}` };
        return answers.get(command);
      },
    },
  },
};

const { remedyOf, runRepair } = await import("../build/modules/diagnose.js");

const FIX_COMMAND = "Run `passkeys-desktop doctor --fix` to register it again.";

test("a check the app can repair offers a Fix, not the command to type", () => {
  const scheme = { name: "scheme", verdict: "fail", detail: "no desktop entry", fix: FIX_COMMAND, repair: "registerScheme" };
  assert.deepEqual(remedyOf(scheme), { kind: "repair", repair: "registerScheme" });

  const broker = { name: "broker", verdict: "fail", detail: "not ready", fix: "Check the broker's logs." };
  assert.deepEqual(remedyOf(broker), { kind: "todo", text: "Check the broker's logs." });

  const notNeeded = { name: "scheme", verdict: "ok", detail: "Not needed: sign-in comes back to 127.0.0.1." };
  assert.deepEqual(remedyOf(notNeeded), { kind: "none" });
  assert.deepEqual(remedyOf({ ...scheme, verdict: "ok" }), { kind: "none" }, "nothing to fix once it is right");
});

test("the scheme's Fix runs the registration command and answers the report after it", async () => {
  const after = { verdict: "ok", checks: [{ name: "scheme", verdict: "ok", detail: "links open this binary" }], settings: [] };
  answers.set("fix_link_scheme", after);
  invoked.length = 0;

  const report = await runRepair("registerScheme");

  assert.deepEqual(invoked, [{ command: "fix_link_scheme", args: undefined }]);
  assert.deepEqual(report, after);
});

test("a Fix that fails rejects with the app's error", async () => {
  answers.delete("fix_link_scheme");
  await assert.rejects(runRepair("registerScheme"), (error) => error.kind === "internal");
});
