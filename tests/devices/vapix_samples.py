"""Realistic VAPIX answer bodies for parser tests, written for this project.

Each sample follows the shape real devices send (field order, missing keys, spelling, CRLF line
ends, prefixes) as recorded from an AXIS OS 12.11 dome camera, an older 9.x box camera, PTZ units
of several generations, 5.x encoders and an I/O relay module. Values (serials, addresses, names)
are our own.
"""

# --- 12.11 dome camera (P3265-V class) --------------------------------------------------------

DOME_DEVICE_INFO_ALL = (
    '{"apiVersion": "1.3", "data": {"propertyList": {"Architecture": "aarch64", '
    '"ProdNbr": "P3265-V", "HardwareID": "931.11", "ProdFullName": "AXIS P3265-V Dome Camera", '
    '"Version": "12.11.77", "ProdType": "Dome Camera", "SocSerialNumber": "5D12A07E-0101030D", '
    '"Soc": "Axis Artpec-8", "Brand": "AXIS", "WebURL": "https://www.axis.com", '
    '"ProdVariant": "", "SerialNumber": "B8A44F0C51D2", "ProdShortName": "AXIS P3265-V", '
    '"BuildDate": "Jul 08 2026 12:25"}}}'
)

DOME_DEVICE_INFO_UNRESTRICTED = (
    '{"apiVersion": "1.3", "data": {"propertyList": {"ProdNbr": "P3265-V", '
    '"HardwareID": "931.11", "ProdFullName": "AXIS P3265-V Dome Camera", "Version": "12.11.77", '
    '"ProdType": "Dome Camera", "Brand": "AXIS", "WebURL": "https://www.axis.com", '
    '"ProdVariant": "", "SerialNumber": "B8A44F0C51D2", "ProdShortName": "AXIS P3265-V", '
    '"BuildDate": "Jul 08 2026 12:25"}}}'
)

DOME_API_LIST = """{
  "method": "getApiList",
  "apiVersion": "1.1",
  "data": {
    "apiList": [
      {"id": "ssh", "version": "1.0", "name": "SSH",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/", "status": "official"},
      {"id": "recording", "version": "1.0", "name": "Edge Recording",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/", "status": "official"},
      {"id": "straightenimage", "version": "1.0", "name": "Straighten Image", "docLink": ""},
      {"id": "systemready", "version": "1.5", "name": "Systemready",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/", "status": "official"},
      {"id": "fwmgr", "version": "1.10", "name": "Firmware Management",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/", "status": "official"},
      {"id": "basic-device-info", "version": "1.3", "name": "Basic Device Information",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/", "status": "official"},
      {"id": "user-management", "version": "1.2", "name": "User Management",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/", "status": "official"},
      {"id": "packagemanager", "version": "1.4", "name": "Package Manager", "docLink": ""},
      {"id": "privacy-mask", "version": "2.4", "name": "Privacy Masking",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/", "status": "official"},
      {"id": "privacy-mask", "version": "3.0", "name": "Privacy Masking",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/", "status": "official"}
    ]
  }
}"""

DOME_FWMGR_STATUS_FRESH = """{
  "apiVersion": "1.10",
  "method": "status",
  "data": {
    "activeFirmwareVersion": "12.11.77",
    "activeFirmwarePart": "7454651131",
    "resetSource": "crash"
  }
}"""

DOME_FWMGR_STATUS_UNCOMMITTED = (
    '{"apiVersion": "1.10", "context": "camfleet", "method": "status", "data": {'
    '"activeFirmwareVersion": "12.11.86", "activeFirmwarePart": "7454651131", '
    '"inactiveFirmwareVersion": "12.11.77", "isCommited": false, "timeToRollback": 1712, '
    '"lastUpgradeAt": "2026-11-27T09:14:09+01:00"}}'
)

DOME_FWMGR_STATUS_COMMITTED = (
    '{"apiVersion": "1.10", "method": "status", "data": {'
    '"activeFirmwareVersion": "12.11.86", "activeFirmwarePart": "7454651131", '
    '"inactiveFirmwareVersion": "12.11.77", "isCommited": true, '
    '"lastUpgradeAt": "2026-11-27T09:14:09+01:00"}}'
)

DOME_FWMGR_SUPPORTED_VERSIONS = """{
  "apiVersion": "1.10",
  "method": "getSupportedVersions",
  "data": {
    "apiVersions": [
      "1.10"
    ]
  }
}"""

DOME_FWMGR_ERROR_405 = """{
  "apiVersion": "1.10",
  "method": "nonsense",
  "error": {
    "code": 405,
    "message": "Unknown method in request."
  }
}"""

FWMGR_ERROR_421 = (
    '{"apiVersion": "1.8", "context": "job-77", "method": "upgrade", '
    '"error": {"code": 421, "message": "Firmware image does not match this device."}}'
)

FWMGR_ERROR_409 = (
    '{"apiVersion": "1.8", "method": "upgrade", "error": {"code": 409, '
    '"message": "Downgrade is only allowed if factoryDefault=hard is set."}}'
)

FWMGR_UPGRADE_ACCEPTED = (
    '{"apiVersion": "1.10", "context": "camfleet", "method": "upgrade", '
    '"data": {"firmwareVersion": "12.11.86"}}'
)

DOME_SYSTEMREADY = (
    '{"apiVersion": "1.5", "method": "systemready", "data": {"systemready": "yes", '
    '"needsetup": "no", "uptime": "4811", "bootid": "0f3c2b8e-77aa-4c41-9d0e-5b1f6e2a9c10", '
    '"passphrasepolicy": "none"}}'
)

# 10.12 LTS answers systemready 1.2 without uptime and bootid.
LTS_SYSTEMREADY = (
    '{"apiVersion": "1.2", "method": "systemready", '
    '"data": {"systemready": "yes", "needsetup": "no"}}'
)

# A factory-fresh device in preview mode.
FRESH_SYSTEMREADY = (
    '{"apiVersion": "1.4", "method": "systemready", "data": {"systemready": "yes", '
    '"needsetup": "yes", "uptime": "95", "bootid": "c2d9a1f4-3e55-4b7b-8e21-0aa4f1d3e7b6", '
    '"previewmode": "7200"}}'
)

# An answer to an unknown method of another AJR CGI (time.cgi): the same envelope.
TIME_ERROR_4000 = """{
  "apiVersion": "1.1",
  "context": "camfleet",
  "method": "getSomethingUnknown",
  "error": {
    "code": 4000,
    "message": "Method does not exist"
  }
}"""

DOME_PARAM_NETWORK = (
    "root.Network.BootProto=dhcp\r\n"
    "root.Network.HostName=axis-b8a44f0c51d2\r\n"
    "root.Network.Bonjour.FriendlyName=AXIS P3265-V\r\n"
    "root.Network.DHCP.VendorClass=AXIS,Dome Camera,P3265-V,12.11.77\r\n"
    "root.Network.DNSUpdate.DNSName=\r\n"
    "root.Network.eth0.MACAddress=b8:a4:4f:0c:51:d2\r\n"
    "root.Network.HTTP.AuthenticationPolicy=recommended\r\n"
    "root.Network.HTTP.AuthenticationWithQop=no\r\n"
    "root.Network.SSH.Enabled=yes\r\n"
    "root.Network.UPnP.FriendlyName=AXIS P3265-V - B8A44F0C51D2\r\n"
    "root.Network.VolatileHostName.HostName=axis-b8a44f0c51d2\r\n"
)

# A multi-group list where one group is missing: the error line, and the group after it comes
# back without its "root." prefix (a quirk of the 12.11 dome).
DOME_PARAM_MIXED = (
    "root.HTTPS.Enabled=yes\r\n"
    "root.HTTPS.Port=443\r\n"
    "# Error: Error -1 getting param in group 'Network.Filter'\r\n"
    "Network.HTTP.AuthenticationPolicy=recommended\r\n"
    "root.Properties.Firmware.Version=12.11.77\r\n"
    "root.Time.POSIXTimeZone=<UTC1>-1<UTC2>-2,M3.5.0/2:00:00,M10.5.0/3:00:00\r\n"
)

DOME_PWDGRP_GET = (
    'admin="root,svcfleet,nocadmin"\r\n'
    'operator="root,svcfleet,nocadmin,vms"\r\n'
    'viewer="root,svcfleet,nocadmin,vms,lobby"\r\n'
    'ptz="root,nocadmin"\r\n'
    'digusers="root,svcfleet,nocadmin,vms,lobby"\r\n'
)

DOME_USERGROUP = "svcfleet\r\nadmin operator viewer\r\n"

DOME_401_WWW_AUTHENTICATE = (
    'Digest realm="AXIS_B8A44F0C51D2", '
    'nonce="Zx1kQ2pdBgA=5a1c0e7f22d94b3e8f61c07a9b2d4e6f18c3a5b7", algorithm=MD5, qop="auth"'
)

# --- 9.x box camera (M1065-LW class): full parameter list, old pwdgrp format ----------------

BOX_DEVICE_INFO_ALL = """{
  "apiVersion": "1.1",
  "data": {
    "propertyList": {
      "Architecture": "armv7hf",
      "ProdNbr": "M1065-LW",
      "HardwareID": "70E",
      "Version": "9.80.1",
      "ProdFullName": "AXIS M1065-LW Network Camera",
      "Brand": "AXIS",
      "ProdType": "Network Camera",
      "Soc": "Ambarella S2L (Flattened Device Tree)",
      "SocSerialNumber": "",
      "WebURL": "http://www.axis.com",
      "ProdVariant": "",
      "SerialNumber": "ACCC8E51F0A4",
      "ProdShortName": "AXIS M1065-LW",
      "BuildDate": "Apr 29 2020 06:50"
    }
  }
}"""

BOX_API_LIST = """{
  "method": "getApiList",
  "apiVersion": "1.0",
  "data": {
    "apiList": [
      {"id": "api-discovery", "version": "1.0", "name": "API Discovery Service",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/"},
      {"id": "io-port-management", "version": "1.0", "name": "IO Port Management",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/"},
      {"id": "systemready", "version": "1.1", "name": "Systemready",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/"},
      {"id": "basic-device-info", "version": "1.1", "name": "Basic Device Information",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/"},
      {"id": "light-control", "version": "1.1", "name": "Light Control",
       "docLink": "https://www.axis.com/partner_pages/vapix_library/#/"}
    ]
  }
}"""

BOX_SUPPORTED_VERSIONS = """{
  "method": "getSupportedVersions",
  "data": {
    "apiVersions": [
      "1.0"
    ]
  }
}"""

# Sent when getSupportedVersions carries an apiVersion (which it must not).
BOX_SUPPORTED_VERSIONS_ERROR_4002 = """{
  "apiVersion": "1.0",
  "error": {
    "code": 4002,
    "message": "'apiVersion' must not be provided for method 'getSupportedVersions'"
  }
}"""

BOX_PARAM_LIST = """root.Audio.DSCP=0
root.Audio.A0.Enabled=no
root.AudioSource.A0.AudioEncoding=aac
root.BasicDeviceInfo.BasicDeviceInfo=yes
root.Brand.Brand=AXIS
root.Brand.ProdFullName=AXIS M1065-LW Network Camera
root.Brand.ProdNbr=M1065-LW
root.Brand.ProdShortName=AXIS M1065-LW
root.Brand.ProdType=Network Camera
root.Brand.ProdVariant=
root.Brand.WebURL=http://www.axis.com
root.HTTPS.AllowTLS1=yes
root.HTTPS.Ciphers=DHE-RSA-AES128-SHA:DHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA
root.ImageSource.I0.Name=Camera
root.ImageSource.I0.Sensor.AspectRatio=16:9
root.Network.RTP.R0.AlwaysMulticastProfile=videocodec=h264
root.Network.eth0.MACAddress=AC:CC:8E:51:F0:A4
root.Network.HTTP.AuthenticationPolicy=digest
root.Network.HTTP.AuthenticationPolicySet=yes
root.Properties.API.HTTP.AdminPath=/
root.Properties.API.HTTP.Version=3
root.Properties.API.PTZ.Presets.Version=2.00
root.Properties.ApiDiscovery.ApiDiscovery=yes
root.Properties.Firmware.BuildDate=Feb 15 2019 09:42
root.Properties.Firmware.BuildNumber=26
root.Properties.Firmware.Version=9.10.1
root.Properties.Image.Resolution=1920x1080,1280x720,640x360,320x180
root.Properties.System.Architecture=armv7hf
root.Properties.System.HardwareID=70E
root.Properties.System.SerialNumber=ACCC8E51F0A4
root.Properties.System.Soc=Ambarella S2L
root.PTZ.BoaProtPTZOperator=password
root.PTZ.Preset.P0.Name=
root.PTZ.Preset.P0.ImageSource=0
root.PTZ.Preset.P0.HomePosition=1
root.PTZ.Preset.P0.Position.P1.Name=Home
root.PTZ.Preset.P0.Position.P1.Data=tilt=0.000000:pan=0.000000:zoom=1.000000
root.StreamProfile.S0.Name=Quality
root.StreamProfile.S0.Parameters=videocodec=h264&resolution=1920x1080&fps=0
"""

# Older firmware lists system groups and internal service accounts too.
BOX_PWDGRP_GET = """admin="fleet,wwwa,wwwaop,wwwaovp,wwwao,wwwap,wwwaov,root"
anonymous=""
api-discovery=""
audio="streamer,sdk,audiocontrol"
basic-device-info=""
gpio="environment,actionengined,led,mediaclipcgi,iod,scheduled,ptzadm,"
operator="fleet,guard,sdk,wwwo,wwwaovp,wwwaop,wwwao,wwwop,wwwaov,root"
ptz="fleet,wwwop,wwwaop,wwwaovp,wwwap,wwwp,wwwovp,root,wwwvp,wwwavp"
users="lobby,guard,fleet"
viewer="fleet,guard,sdk,wwwaovp,wwwaov,wwwov,wwwovp,wwwav,root,lobby,wwwv"
digusers="root,kiosk,display"
"""

BOX_USERGROUP = "root\nroot admin operator ptz viewer\n"

# --- PTZ units ------------------------------------------------------------------------------

PTZ_PRESETPOSALL = "Preset Positions for camera 1\r\npresetposno1=Home\r\npresetposno4=Gate\r\n"

PTZ_POSITION = (
    "pan=51.2891\r\ntilt=46.1914\r\nzoom=1\r\niris=6427\r\nfocus=8265\r\n"
    "brightness=4999\r\nautofocus=off\r\nautoiris=on\r\n"
)

PTZ_LIMITS = (
    "MinPan=-170\r\nMaxPan=170\r\nMinTilt=-20\r\nMaxTilt=90\r\nMinZoom=1\r\nMaxZoom=9999\r\n"
)

# A multi-sensor unit: one preset group per image source; home position per group.
MULTISENSOR_PARAM_PTZ = """root.PTZ.BoaProtPTZOperator=password
root.PTZ.CameraDefault=1
root.PTZ.NbrOfCameras=3
root.PTZ.PresetNameMaxLen=95
root.PTZ.ResponseEncoding=iso-8859-1
root.PTZ.Preset.P0.HomePosition=-1
root.PTZ.Preset.P0.ImageSource=0
root.PTZ.Preset.P0.Name=
root.PTZ.Preset.P1.HomePosition=1
root.PTZ.Preset.P1.ImageSource=1
root.PTZ.Preset.P1.Name=
root.PTZ.Preset.P1.Position.P1.Data=pan=103.093414:tilt=0.538361
root.PTZ.Preset.P1.Position.P1.Name=Home
root.PTZ.Preset.P2.HomePosition=1
root.PTZ.Preset.P2.ImageSource=2
root.PTZ.Preset.P2.Name=
root.PTZ.Preset.P2.Position.P1.Data=pan=-39.198059:tilt=-37.055649
root.PTZ.Preset.P2.Position.P1.Name=Home
root.PTZ.Preset.P2.Position.P3.Data=pan=45.000000:tilt=-51.000000:zoom=1.000000
root.PTZ.Preset.P2.Position.P3.Name=Parking
root.PTZ.UserAdv.U1.DeviceStatus=cam=ok,pan=ok,tilt=ok
"""

# A 5.x fixed camera with digital PTZ switched off: no positions stored.
OLD_FIXED_PARAM_PTZ = """root.PTZ.NbrOfSerPorts=0
root.PTZ.NbrOfCameras=1
root.PTZ.CameraDefault=1
root.PTZ.CamPorts.Cam1Port=1
root.PTZ.ImageSource.I0.PTZEnabled=false
root.PTZ.Limit.L1.MinPan=-180
root.PTZ.Limit.L1.MaxPan=180
root.PTZ.Preset.P0.Name=
root.PTZ.Preset.P0.ImageSource=0
root.PTZ.Preset.P0.HomePosition=-1
"""

# --- Legacy devices -------------------------------------------------------------------------

ENCODER_PARAM_PROPERTIES = """root.Properties.API.HTTP.Version=3
root.Properties.API.HTTP.AdminPath=/operator/basic.shtml
root.Properties.API.RTSP.Version=2.01
root.Properties.Firmware.BuildDate=Jun 13 2017 14:38
root.Properties.Firmware.Version=5.20.5
root.Properties.HTTPS.HTTPS=yes
root.Properties.Image.Rotation=0,90,180,270
"""

RELAY_PARAM_PROPERTIES = """root.Properties.API.HTTP.Version=3
root.Properties.API.WebService.ONVIF.Version=1.02
root.Properties.Firmware.Version=1.84.1
root.Properties.System.SerialNumber=ACCC8E0F00A9
"""

PARAM_ERROR_SPEAKER = "# Error: Error -1 getting param in group 'Properties.Image.Resolution'\r\n"

PARAM_UPDATE_OK = "OK"
PARAM_UPDATE_ERROR = "# Error: Error setting 'Network.SSH.Enabled' to 'maybe'!"

# --- pwdgrp.cgi answers (HTML page, one line in the body) -------------------------------------


def pwdgrp_page(line: str) -> str:
    """Return a pwdgrp.cgi answer page the way devices format it."""
    return (
        "<html><head><title>User accounts</title></head><body bgcolor=#ffffff>"
        f"{line}\n</body>\n\n</html>\n"
    )


# --- Edge recordings --------------------------------------------------------------------------

RECORDINGS_LIST = """<?xml version="1.0"?>
<root>
  <recordings totalnumberofrecordings="2" numberofrecordings="2">
    <recording diskid="SD_DISK" recordingid="20261127_081501_4F2A_B8A44F0C51D2"
      starttime="2026-11-27T08:15:01.412Z" starttimelocal="2026-11-27T09:15:01.412+01:00"
      stoptime="2026-11-27T08:45:01.002Z" stoptimelocal="2026-11-27T09:45:01.002+01:00"
      recordingtype="continuous" eventid="continuous" eventtrigger="continuous"
      recordingstatus="completed" source="1" locked="No">
      <video mimetype="video/x-h264" width="1920" height="1080" framerate="25:1"
        resolution="1920x1080"/>
    </recording>
    <recording diskid="SD_DISK" recordingid="20261127_090012_11C0_B8A44F0C51D2"
      starttime="2026-11-27T09:00:12.000Z" starttimelocal="2026-11-27T10:00:12.000+01:00"
      stoptime="" stoptimelocal="" recordingtype="triggered" eventid="motion"
      eventtrigger="motion" recordingstatus="recording" source="1" locked="Yes">
      <video mimetype="video/x-h264" width="1280" height="720" framerate="15:1"
        resolution="1280x720"/>
    </recording>
  </recordings>
</root>
"""

RECORDINGS_ERROR = """<?xml version="1.0"?>
<root>
  <error code="1" description="Disk SD_DISK not available"/>
</root>
"""

# --- Other JSON APIs and installed applications (same envelope, parsed generically) -------------

DOME_TIME_INFO = """{
  "apiVersion": "1.1",
  "context": "camfleet",
  "method": "getDateTimeInfo",
  "data": {
    "dateTime": "2026-11-27T09:24:01Z",
    "localDateTime": "2026-11-27T10:24:01+01:00",
    "maxYearSupported": 2069,
    "posixTimeZone": "<UTC1>-1<UTC2>-2,M3.5.0/2:00:00,M10.5.0/3:00:00",
    "dstEnabled": true
  }
}"""

DOME_NTP_INFO = """{
  "apiVersion": "1.5",
  "context": "camfleet",
  "method": "getNTPInfo",
  "data": {
    "client": {
      "enabled": true,
      "NTSEnabled": false,
      "serversSource": "static",
      "staticServers": ["10.20.0.5"],
      "advertisedServers": [],
      "synced": true,
      "timeToNextSync": 51,
      "timeOffset": 0.004211
    }
  }
}"""

DOME_NETWORK_SETTINGS_VERSIONS = """{
  "apiVersion": "1.38",
  "method": "getSupportedVersions",
  "data": {
    "apiVersions": [
      "1.38"
    ]
  }
}"""

BOX_PORTS = """{
  "apiVersion": "1.0",
  "context": "camfleet",
  "method": "getPorts",
  "data": {
    "numberOfPorts": 1,
    "items": [
      {"port": "0", "configurable": false, "usage": "", "name": "PIR sensor",
       "direction": "input", "state": "open", "normalState": "open"}
    ]
  }
}"""

APPLICATIONS_LIST = """<reply result="ok">
 <application Name="vmd" NiceName="AXIS Video Motion Detection" Vendor="Axis Communications" \
Version="4.5-2" ApplicationID="143440" License="None" Status="Running" \
ConfigurationPage="local/vmd/config.html" VendorHomePage="http://www.axis.com" />
 <application Name="fenceguard" NiceName="AXIS Fence Guard" Vendor="Axis Communications" \
Version="2.2-4" ApplicationID="47775" License="None" Status="Stopped" />
 <application Name="ConnectAgent" NiceName="Deployment Agent" Vendor="Axis Communications" \
Version="1.3-438" ApplicationID="412994" License="None" Status="Running" LicenseName="AXIS" />
</reply>
"""

APPLICATIONS_ERROR = '<reply result="error">\n <error type="6" />\n</reply>\n'

# --- Not an Axis device -----------------------------------------------------------------------

ROUTER_LOGIN_PAGE = """<!DOCTYPE html>
<html><head><title>Router login</title></head>
<body><form method="post"><input name="password"></form></body></html>
"""
