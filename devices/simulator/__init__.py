"""A fleet of simulated Axis cameras that follows VAPIX.md, for tests, benchmarks and demos.

One asyncio process serves N cameras, each on its own loopback port (plus an HTTPS port when
asked) or, with ``host="127.1.0.0/22"``, each on its own loopback address with the same port,
from one aiohttp application (the ``http`` package, one module per API family): a request is
mapped to its camera by the local address it arrived on. Everything is deterministic for a seed
(serials, MACs, models, versions, passwords, installed applications, which cameras get a fault
share, boot IDs, which requests a flaky-errors share hits); only
Digest nonces (time-stamped, as on Apache) and TLS keys differ between runs. No Django imports
here; ``manage.py simulate_cameras`` and ``python -m devices.simulator`` are thin wrappers
around ``cli.serve``.

Public API
----------
- ``Fleet(count, seed=0, time_scale=1.0, faults=None, first_port=None, host="127.0.0.1",
  control_port=None, products=None, timing=None, nonce_lifetime=300.0, https=False)`` with
  ``await start()``, ``await stop()``, ``await reset(serial=None)``,
  ``await set_faults(serial, {...})``, ``await clear_faults(serial=None)``,
  ``await apply_spec(spec)``, ``regenerate_certificate(serial)``, ``fleet_entries()``,
  ``cameras`` (``camera.Camera`` state objects).
- ``run_in_thread(count, **Fleet options) -> FleetThread``: the fleet in a background thread.
  ``FleetThread.cameras`` is a list of ``CameraInfo`` (host, port, base_url, username,
  password, operator_password, viewer_password, serial, product_number, model, version,
  has_ptz, https_port, https_url, certificate_sha256, applications); methods ``camera(serial)``,
  ``by_product(number)``, ``set_fault(serial, name, value=True)``, ``clear_faults(serial=None)``,
  ``set_knobs(serial, **knobs)``, ``set_applications(serial, [dict, ...])``,
  ``power_cycle(serial)``, ``reset(serial=None)``, ``activity()``, ``clear_activity()``,
  ``state(serial)``, ``wait_for(serial, predicate)``, ``regenerate_certificate(serial)``,
  ``control_url``, ``stop()``.
- pytest fixtures in tests/devices/conftest.py: ``camera_fleet`` (session, six cameras) and
  ``clean_camera_fleet`` (the same fleet reset before the test).
- ``write_fleet_file(path, entries)``: JSON, or CSV with the columns host, port, username,
  password, serial, product_number, model, version when the path ends in ``.csv``.
- ``firmware.build_image / write_image / iter_image / StreamingVerifier``: the test firmware
  format (see firmware.py; VAPIX.md §14 item 17, extended to several product numbers).
- Control API (``--control-port``): GET /cameras, GET /cameras/{serial} (with transition log),
  POST/DELETE /cameras/{serial}/faults, POST /cameras/{serial}/knobs,
  POST /cameras/{serial}/applications (``{"applications": [...]}`` replaces the list),
  POST /cameras/{serial}/power-cycle, POST /cameras/{serial}/reset,
  POST /cameras/{serial}/certificate, POST/DELETE /faults, POST /reset, GET/DELETE /activity.
- Upgrade activity (``activity.py``): uploads and upgrades in progress now and at most at once,
  and images installed per camera, counted on the devices' side for concurrency-limit and
  "never upgraded twice" checks.
- Faults (``faults.FAULTS``): offline, slow-link[=bytes/s], wrong-credentials,
  refuse-image[=code], hang, html-errors[=status], never-returns, comes-back-old,
  flapping[=simulated s], answer-lost, latency[=ms], flaky-errors[=%], bad-json,
  upload-reset[=%], upload-stall[=%], swapped-serial, clock-skew[=s].
- Knobs (``camera.Knobs``): auth_policy (recommended|digest|basic|both), digest_qop,
  privilege_status (401|403), reject_json_filename, passphrase_policy (none|length|complex),
  purge_before_validation, nonce_max_uses, lockout_after, lockout_seconds,
  down_mode (refuse|blackhole), hard_reset_changes_ip, answer_after_flash,
  upload_stall_seconds (0: an upload-stall lasts until the fault is cleared).

Time
----
Durations are simulated seconds; real seconds = simulated x ``time_scale`` (so 0.01 makes a
60 s reboot take 0.6 s). Defaults (VAPIX.md §6.7 proposal): verify 10 s, pre-reboot 5 s, down
60 s, boot 30 s. Everything the device reports (``uptime``, ``timeToRollback``,
``previewmode``) is in simulated seconds. systemready's ``params.timeout`` long poll is in real
seconds (capped at 60), because it bounds an HTTP request the client waits for.

Choices where VAPIX.md says unknown or guess [G]
------------------------------------------------
Authentication (§2):
- 401 headers copy the recorded P3265-V: ``Digest realm="AXIS_<SERIAL>", nonce="...",
  algorithm=MD5, qop="auth"``. JSON CGIs answer ``application/json; charset=utf-8`` with an
  empty body (as recorded); all other CGIs answer Apache's HTML 401 page.
- Nonces have Apache mod_auth_digest's shape (base64 of the 8-byte microsecond time, then a
  keyed SHA-1), live 300 real seconds, then a right answer gets ``stale=TRUE``. ``nc`` is not
  checked for replays (Apache's AuthDigestNcCheck is off by default); knob nonce_max_uses
  makes a nonce stale after N uses. Only MD5 (no MD5-sess, no SHA-256) is offered or accepted.
- ``recommended`` (the default, as the recorded parameter says): Digest offered on HTTP, Basic
  offered on HTTPS where Digest is still accepted. Anonymous methods ignore any credentials.
- Valid user, too little privilege: 401 with a fresh challenge (older firmware; PR #31 in
  Kane610/axis), knob 403; basicdeviceinfo restricted methods answer JSON 2001 instead.
- No brute-force lockout by default; knob lockout_after/lockout_seconds refuses every
  credential for a while after N failures.

JSON APIs (§1, §3-§5):
- systemready uses basicdeviceinfo's error table (2002 wrong HTTP method, 2003 version, 2004
  method, 4000 JSON, 4002 parameter); its getSupportedVersions answer carries apiVersion like
  fwmgr's. basicdeviceinfo and apidiscovery answer getSupportedVersions with ``method`` and
  ``data`` only (recorded M1065-LW shape) and refuse an ``apiVersion`` there with 4002 and the
  recorded message.
- The body is read as JSON whatever its Content-Type (``application/json``, ``text/plain``,
  curl's form type, none): only the document is judged (4000/400 for bad JSON). VAPIX.md §1.1
  says AXIS OS 11 rejects a missing Content-Type, citing rs4acap; that note (error 11 "Bad
  content type") is about the ``/config/rest`` device-configuration APIs, not these CGIs.
  POST stays required (2002/405), as recorded.
- systemready adds ``uptime``/``bootid`` from AXIS OS 11 (answering 1.4; 10.12 answers 1.2
  without them), ``passphrasepolicy`` from 12 (1.5), ``previewmode`` (7200 minus uptime) while
  no admin exists on 11+. apidiscovery needs authentication on 9.80-10.12.
  getAllUnrestrictedProperties is missing (2004) before AXIS OS 10 (VAPIX.md knows 8.45).
- A legacy profile (AXIS OS 5.51, M3024-L) has no apidiscovery/basicdeviceinfo/systemready/
  fwmgr (Apache-style 404 page) and answers with a Boa server header.

Firmware management (§6):
- Any fwmgr request while an upload is received, verified or the device waits to reboot gets
  423; the answer to ``upgrade`` is sent after verification, before flashing; the device stays
  up for the pre-reboot time (fwmgr 423), then switches images and goes down. Knob
  answer_after_flash sends the answer after the pre-reboot (flash) time, just before going down.
- Every fwmgr method needs admin, getSupportedVersions included (anonymous: 401, as recorded
  on 12.11). ``upgrade`` sent as plain JSON without an image (the vendor's documentation
  slip) answers 400. Multipart part names are not checked (only the order: JSON, then
  image); a JSON part with a filename is accepted, as most versions do, unless knob
  reject_json_filename answers 400 ``Only string objects allowed.``
- Validation order as §14 item 18. Junk or an unreadable header is 421, a truncated or
  modified image 415, a missing image part 400; ``cert=custom:<id>`` is accepted (the simulator
  pretends every custom certificate is installed), ``cert=unknown`` is 424. Reinstalling the
  running version is allowed. There is no separate "disk full": use refuse-image=500.
- The image is never stored: it streams through a SHA-256 verifier holding one chunk plus 72
  bytes (instead of §14 item 16's "stream to disk"; there is nothing to flash).
- Rollback answers ``{}``, then after the pre-reboot time reboots into the old image with the
  settings snapshot from upgrade time; afterwards there is no inactive image.
- ``resetSource`` (12.11+ only) is ``power`` after start or a power cycle, ``software`` after
  any other reboot. ``pendingCommit`` exists only during the boot window, when fwmgr answers
  503, so clients never see it.
- factoryDefault with a rollback timer pending keeps the image uncommitted. A hard factory
  default keeps the address unless knob hard_reset_changes_ip, which makes the camera vanish
  from its address until reset.

Availability (§6.7, §14.6):
- Down: the listener is closed (connection refused) and open connections are reset; knob
  down_mode=blackhole accepts connections and never answers them. Boot window: HTTP up,
  systemready ``"no"``, every other CGI an Apache 503 page.

Identity (§12): the MAC is the serial (upper case, colons), the realm ``AXIS_<SERIAL>``, the
host name ``axis-<serial>``; serials start with a real Axis OUI.

Other CGIs (§8-§10):
- Form arguments come from the query string followed by the body, whatever the body's
  Content-Type says (``application/x-www-form-urlencoded``, ``text/plain`` as widely used
  clients send it, or none); a multipart body is not read as a form. A line break ending the
  body is dropped. Argument order never matters; names and values are case-sensitive (no
  source shows a device folding case). GET and POST answer alike on every form CGI, the media
  and recording CGIs included.
- param.cgi security by top-level group: viewers read everything but Network, HTTPS, System,
  Storage, SNMP, WebService, RemoteService and PTZ.BoaProtPTZOperator (admin); Brand and
  Properties are read-only; Image, ImageSource, PTZ, Audio(Source) are writable by operators,
  the rest by admins. In an update, good pairs are applied and each bad one gives its own
  ``# Error: Error setting '<name>' to '<value>'!`` line (``OK`` only if all succeed). ``*``
  in a group matches one name segment. On AXIS OS 12 the group after an error line comes back
  without ``root.`` (recorded P3265-V quirk). The ``usergroup=`` elevation argument is
  accepted and ignored: credentials always decide.
- pwdgrp.cgi: removing the last admin, or root before 11.5, answers
  ``Error: malformed action operation, remove.``; an unsupported sgrp combination or a grp other
  than ``users`` answers ``Error: consult the system log file.``; without strict_pwd a password
  is 1-64 characters without control characters; ``action=get`` lists root, anonymous, users,
  admin, operator, viewer, ptz and digusers (no internal service accounts), role groups newest
  account first and digusers in creation order, as recorded. The initial admin (after a factory
  default) must be root/grp=root/no comment before 11.5.
- usergroup.cgi: root lists no primary group on AXIS OS 10+ (recorded 12.11); other accounts
  lead with ``users``; group order ``admin operator viewer ptz`` (10+) or
  ``admin operator ptz viewer`` (older, recorded).
- jpg/image.cgi: unsupported resolution, camera or compression answers 200 ``text/plain``
  ``Error: ...``; the default size is Image.I0.Appearance.Resolution (640x360). mjpg/video.cgi
  caps "unlimited" fps at 10 (frames change once a second); the boundary is ``myboundary``.
- PTZ (PTZ models only): ``/axis-cgi/com/ptz.cgi`` query=presetposall|presetposcam|position|
  limits|mode|speed and info=1 in the recorded text formats (CRLF lines); limits equal the
  PTZ.Limit.L1 parameters; position adds fixed iris/focus/brightness and autofocus/autoiris
  values; info=1 lists only the commands the simulator carries out. Commands (absolute and
  relative moves, presets) answer 204; moving needs the ptz group, setting/removing server
  presets operator + ptz; unknown presets answer 200 ``Error: ...``. VAPIX.md and the
  recordings are silent on non-PTZ models: they report Properties.PTZ.PTZ=no and ptz.cgi
  answers Apache's 404 page, as for a CGI the firmware does not have.
- Applications: ``/axis-cgi/applications/list.cgi`` answers ``<reply result="ok">`` with one
  ``<application .../>`` line per installed ACAP application, attributes in the recorded order
  and absent ones left out (Q1615 Mk II recording); it needs admin (the Application API's
  other operations do; VAPIX.md is silent) and ignores arguments. Each camera starts with 0-3
  applications from a small catalog, chosen by a hash of seed and serial (about a quarter have
  none; legacy 5.51 cameras none); the control API replaces them. A factory default keeps only
  applications marked preinstalled; a rollback leaves them alone (VAPIX.md §6.4).
  Properties.EmbeddedDevelopment.Version is 2.16 (recorded on 9.x), 1.20 on the legacy profile.
- Edge recordings: ``/axis-cgi/record/list.cgi`` answers list1.xsd XML with 3-5 recordings per
  camera on SD_DISK in the days before the fleet started. Playback: real devices export
  Matroska or play over RTSP; ``/axis-cgi/record/export/exportrecording.cgi?recordingid=...``
  here streams MJPEG frames (``multipart/x-mixed-replace``) stamped with the recording's own
  times, and the list declares ``mimetype="image/jpeg"`` to match.
- Legacy restart.cgi, factorydefault.cgi, hardfactorydefault.cgi and firmwareupgrade.cgi exist
  on every profile; firmwareupgrade answers an HTML page ("Upgrade successful. Restarting
  camera." or "Upgrade failed: ..."), allows downgrades and keeps no rollback image.
- Every answer carries the recorded ``Server: Apache/2.4.68 (Unix) OpenSSL/3.5.7`` and
  hardening headers.
- HTTPS: one self-signed EC P-256 certificate per camera, TLS 1.2+; regenerated on demand.
"""

from .fleet import CameraInfo, Fleet, FleetThread, run_in_thread, write_fleet_file

__all__ = ["CameraInfo", "Fleet", "FleetThread", "run_in_thread", "write_fleet_file"]
