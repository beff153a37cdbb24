"""`drbdadm dump` and `drbdadm dump-xml`: the resource configuration as drbd-utils prints it.

The emulator has no .res file to parse: its JSON config (config.py: the hosts, res_disk, net_options,
disk_options, handlers) is the resource file, and this module prints what drbd-utils' own parser and
printer would print for it.  Formats, from LINBIT/drbd-utils:

* DRBD 8.4 (`drbdadm` hands a 8.4 kernel to drbdadm-84): user/v84/drbdadm_main.c, adm_dump() and
  adm_dump_xml() with dump_host_info(), dump_volume(), dump_options2() and their _xml twins, the
  printI/printA macros (INDENT_WIDTH 4; an option's name padded to 24 - 4 * indent, its value right-
  aligned in 3 columns) and IPV4FMT; `protocol C;` in a resource is stored as a net option
  (user/v84/drbdadm_parser.c, TK_NET_OPTION "protocol").
* DRBD 9: user/v9/drbdadm_dump.c: the same, plus `node-id N;` in each host section, and the implicit
  connection (two hosts, no connection section) printed in dump-xml only (dump_connection_xml has no
  `implicit` check; dump_connection() skips it).
* Without a resource name (or with `all`) both print a header first: `# /etc/drbd.conf` for dump,
  `<config file="/etc/drbd.conf">` … `</config>` around dump-xml (print_dump_header(),
  print_dump_xml_header() in main()); with a name, only the resource.  No global or common section is
  printed: the lab's configuration has none (drbd-utils prints `global` only when it differs from the
  defaults, `common` only when the file has one).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from .config import Config

CONFIG_FILE = "/etc/drbd.conf"
INDENT = 4


def quoteattr(value: str) -> str:
    """printf("name=\"%s\"", esc_xml(value)): always double quotes."""
    return '"' + escape(value, {'"': "&quot;"}) + '"'


def _hosts(cfg: Config) -> list[tuple[str, int, str, int]]:
    """(name, node-id, address, port) in file order (node-id order)."""
    me = (cfg.node, cfg.node_id, cfg.local_addr, cfg.port)
    peer = (cfg.peer, cfg.peer_node_id, cfg.peer_addr, cfg.peer_port)
    return sorted([me, peer], key=lambda h: h[1])


def _esc(value: str) -> str:
    """drbd-utils esc(): a value with blanks or specials is printed in double quotes."""
    if value and all(c.isalnum() or c in "-_./:,@+" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _opt(indent: int, name: str, value: str) -> str:
    # printA(name, val): printf("%*s%*s %3s;\n", INDENT_WIDTH * indent, "", -24 + INDENT_WIDTH * indent, ...)
    pad = 24 - INDENT * indent
    return f"{' ' * (INDENT * indent)}{name:<{pad}} {value:>3};\n"


def _section(indent: int, name: str, options: tuple[tuple[str, str], ...]) -> str:
    if not options:  # dump_options2(): nothing printed for an empty section
        return ""
    out = f"{' ' * (INDENT * indent)}{name} {{\n"
    for key, value in options:
        out += _opt(indent + 1, key, _esc(value)) if value else f"{' ' * (INDENT * (indent + 1))}{key};\n"
    return out + f"{' ' * (INDENT * indent)}}}\n"


def dump_text(cfg: Config, header: bool) -> str:
    out = f"# {CONFIG_FILE}\n" if header else ""
    out += (f"# resource {cfg.resource} on {cfg.node}: not ignored, not stacked\n"
            f"# defined at {cfg.res_file}:1\n"
            f"resource {cfg.resource} {{\n")
    i1, i2 = " " * INDENT, " " * (2 * INDENT)
    for name, node_id, addr, port in _hosts(cfg):
        out += f"{i1}on {name} {{\n"
        if not cfg.is84:
            out += f"{i2}node-id {node_id};\n"
        # dump_volume(), implicit volume 0: printI("device%*s", -19 + INDENT_WIDTH * indent, "")
        out += f"{i2}device{' ' * (19 - 2 * INDENT)}{cfg.device} minor {cfg.minor};\n"
        out += _opt(2, "disk", _esc(cfg.res_disk))
        out += _opt(2, "meta-disk", "internal")
        out += f"{i2}{'address':<16} ipv4 {addr}:{port};\n"  # IPV4FMT "%-16s %s %s:%s;\n"
        out += f"{i1}}}\n"
    out += _section(1, "net", cfg.net_options)
    out += _section(1, "disk", cfg.disk_options)
    out += _section(1, "handlers", cfg.handlers)
    return out + "}\n\n"


def _xml_section(indent: int, name: str, options: tuple[tuple[str, str], ...]) -> str:
    if not options:
        return ""
    pad = " " * (INDENT * indent)
    out = f"{pad}<section name={quoteattr(name)}>\n"
    for key, value in options:
        out += (f"{pad}{' ' * INDENT}<option name={quoteattr(key)} value={quoteattr(value)}/>\n" if value
                else f"{pad}{' ' * INDENT}<option name={quoteattr(key)}/>\n")
    return out + f"{pad}</section>\n"


def dump_xml(cfg: Config, header: bool) -> str:
    base = 1 if header else 0  # print_dump_xml_header() does ++indent
    p = [" " * (INDENT * (base + k)) for k in range(5)]
    out = f'<config file="{CONFIG_FILE}">\n' if header else ""
    out += f"{p[0]}<resource name={quoteattr(cfg.resource)} conf-file-line={quoteattr(cfg.res_file + ':1')}>\n"
    for name, _node_id, addr, port in _hosts(cfg):
        out += f"{p[1]}<host name={quoteattr(name)}>\n"
        out += f'{p[2]}<volume vnr="0">\n'
        out += f'{p[3]}<device minor="{cfg.minor}">{escape(cfg.device)}</device>\n'
        out += f"{p[3]}<disk>{escape(cfg.res_disk)}</disk>\n"
        out += f"{p[3]}<meta-disk>internal</meta-disk>\n"
        out += f"{p[2]}</volume>\n"
        out += f'{p[2]}<address family="ipv4" port="{port}">{escape(addr)}</address>\n'
        out += f"{p[1]}</host>\n"
    if not cfg.is84:  # dump_connection_xml(): the implicit connection's host/address pairs
        out += f"{p[1]}<connection>\n"
        for name, _node_id, addr, port in _hosts(cfg):
            out += (f'{p[2]}<host name={quoteattr(name)}><address family="ipv4" port="{port}">'
                    f"{escape(addr)}</address></host>\n")
        out += f"{p[1]}</connection>\n"
    out += _xml_section(base + 1, "net", cfg.net_options)
    out += _xml_section(base + 1, "disk", cfg.disk_options)
    out += _xml_section(base + 1, "handlers", cfg.handlers)
    out += f"{p[0]}</resource>\n"
    return out + ("</config>\n" if header else "")
