# 100-pipelined-tcp: several queries on one TCP connection (RFC 7766 6.2.1
# pipelining, CLUSTER-DNS row 42), messages split across segments, and the
# idle timeout that closes a connection.
s=shop.svc.cluster.local

# kdig sends its queries one after the other on one kept-open connection.
out=$(kdig -p "$PORT" @127.0.0.1 +tcp +keepopen +norec +noall +answer \
	+time="$(it_scale 2)" +retry=0 \
	frontend.$s A cart.$s A _http._tcp.cart.$s SRV 2>&1)
got=$(printf '%s\n' "$out" | awk '!/^;/ && NF { $1 = $1; print }' | LC_ALL=C sort)
expect_eq "kdig +keepopen, three queries" "$(grep -v '^#' "$CASE_DIR/expected/kdig")" "$got"

# A client that writes three framed queries in one write() and reads three
# responses; they may come in any order (RFC 7766 7), so match them by ID.
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
printf '%b' "$(it_tcp_frame "$(it_query 101 frontend.$s 1)")$(it_tcp_frame "$(it_query 102 nosuch.$s 1)")$(it_tcp_frame "$(it_query 103 _http._tcp.cart.$s 33)")" >&"$fd"
got=
for i in 1 2 3; do
	got+="$(it_header "$(it_tcp_read "$fd")")"$'\n'
done
got=$(printf '%s' "$got" | LC_ALL=C sort)
want="id=101 qr=1 opcode=0 aa=1 tc=0 rd=0 ra=0 rcode=0 qd=1 an=1 ns=0 ar=0
id=102 qr=1 opcode=0 aa=1 tc=0 rd=0 ra=0 rcode=3 qd=1 an=0 ns=1 ar=0
id=103 qr=1 opcode=0 aa=1 tc=0 rd=0 ra=0 rcode=0 qd=1 an=2 ns=0 ar=2"
expect_eq "three pipelined queries in one write" "$want" "$got"

# A message split anywhere: the length prefix alone, then one octet of it,
# then the rest (each pause well below the 2 s I/O timeout).
frame=$(it_tcp_frame "$(it_query 104 frontend.$s 1)")
printf '%b' "${frame:0:4}" >&"$fd"
sleep 0.3
printf '%b' "${frame:4:8}" >&"$fd"
sleep 0.3
printf '%b' "${frame:12}" >&"$fd"
expect_eq "query split into three segments" \
	"id=104 qr=1 opcode=0 aa=1 tc=0 rd=0 ra=0 rcode=0 qd=1 an=1 ns=0 ar=0" \
	"$(it_header "$(it_tcp_read "$fd")")"

# Twenty queries in one write, twenty answers.
burst=
for i in $(seq 201 220); do
	burst+=$(it_tcp_frame "$(it_query "$i" cart.$s 1)")
done
printf '%b' "$burst" >&"$fd"
ids=
for i in $(seq 201 220); do
	h=$(it_header "$(it_tcp_read "$fd")")
	case $h in
	*" rcode=0 qd=1 an=2 "*) ids+="${h%% *} " ;;
	*) ids+="bad($h) " ;;
	esac
done
expect_eq "twenty pipelined queries" \
	"$(for i in $(seq 201 220); do printf 'id=%s ' "$i"; done)" \
	"$(printf '%s' "$ids" | tr ' ' '\n' | grep . | LC_ALL=C sort | tr '\n' ' ')"
exec {fd}>&-

# Idle timeout: a connection with no complete query for the timeout is
# closed by the server (RFC 7766 6.2.3), after answering what it got.
restart_daemon --tcp-idle-timeout 1000
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
printf '%b' "$(it_tcp_frame "$(it_query 301 frontend.$s 1)")" >&"$fd"
expect_eq "query before the idle timeout" \
	"id=301 qr=1 opcode=0 aa=1 tc=0 rd=0 ra=0 rcode=0 qd=1 an=1 ns=0 ar=0" \
	"$(it_header "$(it_tcp_read "$fd")")"
start=$SECONDS
limit=$(it_scale 8)
read -r -t "$limit" -u "$fd" -N 1 _
rc=$?
if [ $rc -gt 128 ]; then
	fail "TCP connection still open ${limit}s after its last query (idle timeout 1 s)"
elif [ $((SECONDS - start)) -lt 1 ] && [ "$SVCDNS_TEST_TIMEOUT_MULTIPLIER" = 1 ]; then
	note "connection closed after $((SECONDS - start)) s"
fi
exec {fd}>&-
# A connection that never sends anything is closed too.
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
read -r -t "$limit" -u "$fd" -N 1 _
[ $? -gt 128 ] && fail "silent TCP connection still open after ${limit}s"
exec {fd}>&-
# The daemon still serves new connections.
expect_dig +tcp frontend.$s A rcode=NOERROR
