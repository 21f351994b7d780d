# 080-wire: header flags, classes, opcodes, EDNS and malformed input
# (CLUSTER-DNS rows 41, 42, 46, 49; section 4 CHAOS; svcdns advertises an
# EDNS size of 1232 whatever the client offers).
f=frontend.shop.svc.cluster.local

for tr in +notcp +tcp; do
	expect_dig $tr $f A file=frontend.A
	# No zone matched: REFUSED, AA clear.
	expect_dig $tr example.com A rcode=REFUSED flags=qr file=refused
	expect_dig $tr . SOA rcode=REFUSED flags=qr file=refused
	# Not class IN: REFUSED (CHAOS included: version.bind).
	expect_dig $tr cluster.local SOA class=CH rcode=REFUSED flags=qr file=refused
	expect_dig $tr version.bind TXT class=CH rcode=REFUSED flags=qr file=refused
	# EDNS version 1: BADVERS, AA clear, OPT version 0.
	expect_dig $tr +edns=1 +noednsnegotiation $f A rcode=BADVERS flags=qr file=badvers
	# EDNS: the OPT is echoed with our size, 1232, whatever was offered;
	# unknown options are ignored and not echoed.
	expect_dig $tr +bufsize=4096 $f A file=frontend.A
	expect_dig $tr +bufsize=1232 +ednsopt=65001:c0ffee $f A file=frontend.A
	# The DO bit is passed through (row 41).
	expect_dig $tr +dnssec $f A file=frontend.do.A
	# No EDNS in the query: no OPT in the response.
	expect_dig $tr +noedns $f A file=frontend.noedns.A
	expect_dig $tr +noedns example.com A rcode=REFUSED flags=qr file=refused.noedns
	# RD is copied; RA stays clear (no forwarding).
	expect_dig $tr +rec $f A flags="qr aa rd"
	# Opcode STATUS: NOTIMP.
	expect_dig $tr +opcode=status $f A rcode=NOTIMP flags=any
done

# Raw messages over UDP (bash /dev/udp): the ID is echoed; QDCOUNT 0 or 2
# is FORMERR; an unknown opcode is NOTIMP; a message with QR=1, or shorter
# than a header, gets no answer at all.
h=$(it_header "$(it_udp_exchange "$(it_query 4660 $f 1)")")
expect_eq "raw UDP A" "id=4660 qr=1 opcode=0 aa=1 tc=0 rd=0 ra=0 rcode=0 qd=1 an=1 ns=0 ar=0" "$h"
h=$(it_header "$(it_udp_exchange "$(it_query 4661 $f 1 256)")")
expect_eq "raw UDP A, RD=1" "id=4661 qr=1 opcode=0 aa=1 tc=0 rd=1 ra=0 rcode=0 qd=1 an=1 ns=0 ar=0" "$h"
h=$(it_header "$(it_udp_exchange "$(it_query 77 $f 1 0 0)")")
expect_match "raw UDP QDCOUNT=0: FORMERR" "id=77 qr=1 opcode=0 aa=0 tc=0 *rcode=1 *" "$h"
msg=$(it_query 78 $f 1 0 2)$(it_wire_name $f)$(it_u16 1)$(it_u16 1)
h=$(it_header "$(it_udp_exchange "$msg")")
expect_match "raw UDP QDCOUNT=2: FORMERR" "id=78 qr=1 opcode=0 aa=0 tc=0 *rcode=1 *" "$h"
h=$(it_header "$(it_udp_exchange "$(it_query 79 $f 1 $((5 << 11)))")")
expect_match "raw UDP opcode UPDATE: NOTIMP" "id=79 qr=1 opcode=5 *rcode=4 *" "$h"
h=$(it_header "$(it_udp_exchange "$(it_query 80 $f 1 $((15 << 11)))")")
expect_match "raw UDP opcode 15: NOTIMP" "id=80 qr=1 opcode=15 *rcode=4 *" "$h"
expect_eq "raw UDP with QR=1: dropped" "" "$(it_udp_exchange "$(it_query 81 $f 1 32768)")"
expect_eq "raw UDP 5 octets: dropped" "" "$(it_udp_exchange '\x00\x52\x00\x00\x00')"
h=$(it_header "$(it_udp_exchange "$(it_query 83 $f 1 0 1 3)")")
expect_match "raw UDP class CH: REFUSED" "id=83 qr=1 opcode=0 aa=0 *rcode=5 *" "$h"

# AXFR over TCP: REFUSED (row 46), and the connection still serves.
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
printf '%b' "$(it_tcp_frame "$(it_query 90 cluster.local 252)")" >&"$fd"
h=$(it_header "$(it_tcp_read "$fd")")
expect_match "AXFR over TCP: REFUSED" "id=90 qr=1 opcode=0 aa=? tc=0 *rcode=5 qd=1 an=0 *" "$h"
printf '%b' "$(it_tcp_frame "$(it_query 91 $f 1)")" >&"$fd"
h=$(it_header "$(it_tcp_read "$fd")")
expect_eq "query after AXFR on the same connection" "id=91 qr=1 opcode=0 aa=1 tc=0 rd=0 ra=0 rcode=0 qd=1 an=1 ns=0 ar=0" "$h"
exec {fd}>&-
# IXFR is refused too (falls back to AXFR, which is refused).
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
printf '%b' "$(it_tcp_frame "$(it_query 92 cluster.local 251)")" >&"$fd"
h=$(it_header "$(it_tcp_read "$fd")")
expect_match "IXFR over TCP: REFUSED or FORMERR" "id=92 qr=1 opcode=0 *rcode=[15] *" "$h"
exec {fd}>&-

# After all that the daemon still answers.
expect_dig $f A file=frontend.A
