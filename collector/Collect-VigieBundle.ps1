<#
.SYNOPSIS
    Gathers the evidence `vigie triage` reads from one Exchange server into a single zip. Read-only.

.DESCRIPTION
    Copies (never moves) the Exchange logging folders (HttpProxy, ECP server, OAB generator), the IIS W3SVC logs,
    exports the Application event log (.evtx, plus an XML export of MSExchange Unified Messaging events), and, when
    present on the server, the Microsoft-Windows-Sysmon/Operational and MSExchange Management logs (.evtx), lists the
    web roots and ProgramData with SHA-256 hashes, copies the small script files of the web roots that web shells
    hide in, records the server's host name, FQDN and IP addresses in manifest.json (so the report can be attached
    to that host in Vigie's store), and zips everything into one file under -OutputPath.

    What it changes on the server: nothing. It writes only under -OutputPath (default: the current user's TEMP),
    reads files with shared read access, does not stop services, does not change configuration, does not delete
    logs, and does not run anything found on the server. Files it cannot read are listed in errors.txt.

    Run it from an elevated Windows PowerShell 5.1 (or PowerShell 7) on the Exchange server:
        .\Collect-VigieBundle.ps1 -Days 90
    then copy the zip to a workstation and run:  vigie triage <zip>

.PARAMETER OutputPath
    Folder for the staging folder and the zip. Default: $env:TEMP.

.PARAMETER Days
    Copy log files written in the last N days (default 90). 0 copies all.

.PARAMETER MaxScriptBytes
    Web root script files (.aspx .ashx .asmx .asp .js .config) up to this size are copied for YARA scanning. Default 2 MB.
#>
[CmdletBinding()]
param(
    [string]$OutputPath = $env:TEMP,
    [int]$Days = 90,
    [long]$MaxScriptBytes = 2MB
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Continue'

$stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')
$name = "vigie-bundle-$($env:COMPUTERNAME)-$stamp"
$stage = Join-Path $OutputPath $name
$zip = "$stage.zip"
$errors = New-Object System.Collections.ArrayList
New-Item -ItemType Directory -Path $stage -Force | Out-Null

function Add-Error([string]$What, $Err) { [void]$errors.Add("$What : $Err") }

function Get-ExchangeInstallPath {
    $p = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\ExchangeServer\v15\Setup' -ErrorAction SilentlyContinue).MsiInstallPath
    if (-not $p) { $p = $env:ExchangeInstallPath }
    return $p
}

# Copy one file with shared read access (logs are open for writing by IIS/Exchange).
function Copy-Shared([string]$Source, [string]$Destination) {
    try {
        New-Item -ItemType Directory -Path (Split-Path $Destination) -Force | Out-Null
        $in = [System.IO.File]::Open($Source, 'Open', 'Read', 'ReadWrite,Delete')
        try {
            $out = [System.IO.File]::Open($Destination, 'CreateNew', 'Write', 'None')
            try { $in.CopyTo($out) } finally { $out.Dispose() }
        } finally { $in.Dispose() }
        (Get-Item -LiteralPath $Destination).LastWriteTimeUtc = (Get-Item -LiteralPath $Source).LastWriteTimeUtc
    } catch { Add-Error $Source $_.Exception.Message }
}

function Copy-LogFolder([string]$Folder, [string]$BundleFolder, [string]$Filter = '*.log') {
    if (-not (Test-Path -LiteralPath $Folder)) { Add-Error $Folder 'not present'; return }
    $since = if ($Days -gt 0) { (Get-Date).AddDays(-$Days) } else { [datetime]::MinValue }
    Get-ChildItem -LiteralPath $Folder -Recurse -File -Filter $Filter -ErrorAction SilentlyContinue |
        Where-Object { $_.LastWriteTime -ge $since } |
        ForEach-Object {
            $rel = $_.FullName.Substring($Folder.TrimEnd('\').Length).TrimStart('\')
            Copy-Shared $_.FullName (Join-Path (Join-Path $stage $BundleFolder) $rel)
        }
}

# Path, size, last write (UTC) and SHA-256 of every file under the given roots.
function Write-Listing([string[]]$Roots, [string]$Csv, [string]$Filter = '*') {
    $rows = foreach ($root in $Roots) {
        if (-not (Test-Path -LiteralPath $root)) { Add-Error $root 'not present'; continue }
        Get-ChildItem -LiteralPath $root -Recurse -File -Force -Filter $Filter -ErrorAction SilentlyContinue | ForEach-Object {
            $hash = ''
            try { $hash = (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256 -ErrorAction Stop).Hash } catch { Add-Error $_.FullName 'cannot hash' }
            [pscustomobject]@{ Path = $_.FullName; Length = $_.Length; LastWriteTimeUtc = $_.LastWriteTimeUtc.ToString('o'); SHA256 = $hash }
        }
    }
    New-Item -ItemType Directory -Path (Join-Path $stage 'listings') -Force | Out-Null
    $rows | Export-Csv -LiteralPath (Join-Path (Join-Path $stage 'listings') $Csv) -NoTypeInformation -Encoding UTF8
}

$exchange = Get-ExchangeInstallPath
if ($exchange) {
    Write-Host "Exchange: $exchange"
    Copy-LogFolder (Join-Path $exchange 'Logging\HttpProxy') 'logs\HttpProxy'
    Copy-LogFolder (Join-Path $exchange 'Logging\ECP\Server') 'logs\ECP\Server'
    Copy-LogFolder (Join-Path $exchange 'Logging\OABGeneratorLog') 'logs\OABGeneratorLog'
} else {
    Add-Error 'Exchange' 'install path not found (HKLM\SOFTWARE\Microsoft\ExchangeServer\v15\Setup); Exchange logs not collected'
}

# IIS logs: every site's log folder (default %SystemDrive%\inetpub\logs\LogFiles\W3SVC<n>).
$iisRoot = Join-Path $env:SystemDrive 'inetpub\logs\LogFiles'
try {
    Import-Module WebAdministration -ErrorAction Stop
    $configured = (Get-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter 'system.applicationHost/sites/siteDefaults/logFile' -Name directory).Value
    if ($configured) { $iisRoot = [Environment]::ExpandEnvironmentVariables($configured) }
} catch { }
Get-ChildItem -LiteralPath $iisRoot -Directory -Filter 'W3SVC*' -ErrorAction SilentlyContinue | ForEach-Object {
    Copy-LogFolder $_.FullName "logs\$($_.Name)"
}

# Application event log: full export (wevtutil reads, it does not clear), and the UM errors as XML.
$ev = Join-Path $stage 'eventlog'
New-Item -ItemType Directory -Path $ev -Force | Out-Null
& wevtutil.exe epl Application (Join-Path $ev 'Application.evtx') 2>&1 | ForEach-Object { Add-Error 'wevtutil epl' $_ }
$um = & wevtutil.exe qe Application "/q:*[System[Provider[@Name='MSExchange Unified Messaging'] and (Level=2)]]" /f:xml /e:Events 2>&1
if ($LASTEXITCODE -eq 0) { $um | Set-Content -LiteralPath (Join-Path $ev 'MSExchangeUM-errors.xml') -Encoding UTF8 }
else { Add-Error 'wevtutil qe' ($um -join ' ') }

# Other channels, only when the server has them (wevtutil gl fails for an unknown channel): Sysmon's process
# creation events (web shells starting cmd.exe from w3wp.exe / UMWorkerProcess.exe) and Exchange's cmdlet log.
# File names use %4 for '/', as Windows names channel files; Vigie names each file by the channel its records give.
foreach ($channel in @('Microsoft-Windows-Sysmon/Operational', 'MSExchange Management')) {
    & wevtutil.exe gl $channel 2>&1 | Out-Null
    if ($LASTEXITCODE -ne 0) { Add-Error "wevtutil gl $channel" 'channel not present on this server; not exported'; continue }
    $file = Join-Path $ev (($channel -replace '/', '%4') + '.evtx')
    & wevtutil.exe epl $channel $file 2>&1 | ForEach-Object { Add-Error "wevtutil epl $channel" $_ }
}

# Web roots: listings with hashes, and copies of the small script files under files\<drive>\...
$webRoots = @((Join-Path $env:SystemDrive 'inetpub\wwwroot\aspnet_client'))
if ($exchange) {
    $webRoots += (Join-Path $exchange 'FrontEnd\HttpProxy\owa\auth')
    $webRoots += (Join-Path $exchange 'FrontEnd\HttpProxy\ecp\auth')
}
Write-Listing $webRoots 'webroots.csv'
foreach ($root in $webRoots) {
    Get-ChildItem -LiteralPath $root -Recurse -File -Force -ErrorAction SilentlyContinue |
        Where-Object { $_.Extension -in '.aspx', '.ashx', '.asmx', '.asp', '.js', '.config' -and $_.Length -le $MaxScriptBytes } |
        ForEach-Object {
            $drive = $_.FullName.Substring(0, 1)
            Copy-Shared $_.FullName (Join-Path $stage ("files\$drive\" + $_.FullName.Substring(3)))
        }
}

# ProgramData listing (archives staged for exfiltration) and LSASS dumps where Test-ProxyLogon looks.
Write-Listing @($env:ProgramData) 'programdata.csv'
Write-Listing @((Join-Path $env:SystemDrive 'root'), (Join-Path $env:windir 'temp')) 'lsass-dumps.csv' 'lsass*dmp'

# Who this server is: host name, FQDN and the unicast addresses of its interfaces (read, never changed).
$fqdn = $null
try { $fqdn = [System.Net.Dns]::GetHostEntry($env:COMPUTERNAME).HostName } catch { Add-Error 'FQDN' $_.Exception.Message }
$addresses = @()
try {
    $addresses = @([System.Net.NetworkInformation.NetworkInterface]::GetAllNetworkInterfaces() |
        Where-Object { $_.OperationalStatus -eq 'Up' } |
        ForEach-Object { $_.GetIPProperties().UnicastAddresses } |
        ForEach-Object { $_.Address.IPAddressToString -replace '%.*$', '' } |
        Where-Object { $_ -ne '127.0.0.1' -and $_ -ne '::1' } | Sort-Object -Unique)
} catch { Add-Error 'IP addresses' $_.Exception.Message }

[pscustomobject]@{
    collector     = 'Collect-VigieBundle.ps1'
    version       = 2
    computer      = $env:COMPUTERNAME
    fqdn          = $fqdn
    ipAddresses   = $addresses
    collectedUtc  = (Get-Date).ToUniversalTime().ToString('o')
    exchangePath  = $exchange
    days          = $Days
} | ConvertTo-Json | Set-Content -LiteralPath (Join-Path $stage 'manifest.json') -Encoding UTF8
$errors | Set-Content -LiteralPath (Join-Path $stage 'errors.txt') -Encoding UTF8

# One zip (System.IO.Compression: no 2 GB limit of Compress-Archive in Windows PowerShell 5.1).
Add-Type -AssemblyName System.IO.Compression.FileSystem
[System.IO.Compression.ZipFile]::CreateFromDirectory($stage, $zip, [System.IO.Compression.CompressionLevel]::Optimal, $false)
Remove-Item -LiteralPath $stage -Recurse -Force   # the staging copy under -OutputPath, nothing else
Write-Host "Bundle: $zip ($([math]::Round((Get-Item $zip).Length / 1MB, 1)) MB). Problems: $($errors.Count) (see errors.txt in the zip)."
Write-Host "Next: vigie triage `"$zip`""
