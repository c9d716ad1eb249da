/** The pure parts of the FTP store: its URLs and ~/.netrc. */
import assert from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import { isFtpUrl, parseFtpUrl } from "../../lib/stores/ftp/ftp_url.ts";
import { netrcLogin, parseNetrc } from "../../lib/stores/ftp/netrc.ts";

Deno.test("parseFtpUrl: plain and TLS, a user, a port, IPv6, %-escapes, the top folder", () => {
  assert.ok(isFtpUrl("FTPS://h/x") && isFtpUrl("ftp://h") && !isFtpUrl("sftp://h/x"));
  assert.deepEqual(parseFtpUrl("ftps://backup@ftp.example.com/srv/backups/"), {
    host: "ftp.example.com",
    port: 21,
    user: "backup",
    tls: true,
    path: "/srv/backups",
    location: "ftps://backup@ftp.example.com/srv/backups",
  });
  assert.deepEqual(parseFtpUrl("ftp://[::1]:2121/a%20b"), {
    host: "::1",
    port: 2121,
    tls: false,
    path: "/a b",
    location: "ftp://[::1]:2121/a%20b",
  });
  assert.equal(parseFtpUrl("ftp://h").path, "/");
  assert.equal(parseFtpUrl("ftp://me%40corp@h/x").user, "me@corp");
});

Deno.test("parseFtpUrl: what it refuses, as bad input, never echoing a password", () => {
  for (
    const url of [
      "ftp:/h/x",
      "ftp://u:secret@h/x",
      "ftp://h:0/x",
      "ftp://h:70000/x",
      "ftp://h h/x",
      "ftp://h/a/../b",
      "ftp://h/a/%0ab",
      "ftp://h/%zz",
    ]
  ) {
    assert.throws(() => parseFtpUrl(url), UsageError, url);
  }
  assert.throws(
    () => parseFtpUrl("ftp://u:secret@h/x"),
    (e: Error) => !e.message.includes("secret"),
  );
});

Deno.test("netrc: machines, the default, a login the URL names, comments and macros", () => {
  const netrc = parseNetrc(`# backups
machine ftp.example.com login alice password a1
machine FTP.example.com
  login bob
  password b2
macdef init
  cd /x
  bin

default login anon password guest
`);
  assert.deepEqual(netrcLogin(netrc, "ftp.example.com"), { login: "alice", password: "a1" });
  assert.deepEqual(netrcLogin(netrc, "ftp.example.com", "bob"), { login: "bob", password: "b2" });
  assert.deepEqual(netrcLogin(netrc, "other.example.com"), { login: "anon", password: "guest" });
  assert.equal(netrcLogin(netrc, "ftp.example.com", "carol"), undefined);
  assert.equal(netrcLogin(parseNetrc("machine h login x\n"), "h"), undefined, "no password");
  assert.deepEqual(
    netrcLogin(parseNetrc("machine h login x password p macdef m\n  ls\n\n"), "h"),
    { login: "x", password: "p" },
  );
});
