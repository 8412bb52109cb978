# bash completion for zfsinstall(8)
#
# Installed as /usr/share/bash-completion/completions/zfsinstall by the RPM; by hand:
#   source deploy/completion/zfsinstall.bash
#
# Commands, options and recipe names are asked from the binary itself
# (`zfsinstall -h`, `zfsinstall COMMAND -h`, `zfsinstall recipes`), so the
# completion never lags behind the program. Kernel releases come from
# ROOT/lib/modules (ROOT is --root when given).

_zfsinstall_run() {
	# The binary being completed: the word the user typed, resolved on PATH.
	local bin
	bin=$(command -v -- "${COMP_WORDS[0]}" 2>/dev/null) || bin=zfsinstall
	"$bin" "$@" 2>&1
}

_zfsinstall_commands() {
	_zfsinstall_run -h | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

_zfsinstall_options() {
	# Go's flag usage lists each option as "  -name [type]"; offer --name
	# (both dashes work), and -f as itself.
	_zfsinstall_run "$1" -h | sed -n 's/^  -\([a-z][a-z-]*\).*/\1/p' |
		while read -r opt; do
			if [ ${#opt} -eq 1 ]; then echo "-$opt"; else echo "--$opt"; fi
		done
}

_zfsinstall_root() {
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		-root | --root) echo "${COMP_WORDS[i + 1]}" && return ;;
		-root=* | --root=*) echo "${COMP_WORDS[i]#*=}" && return ;;
		esac
	done
	echo /
}

_zfsinstall() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_zfsinstall_commands)" -- "$cur")
		return 0
	fi
	local cmd=${COMP_WORDS[1]}
	case $prev in
	-f | --f | -out | --out | -facts | --facts | -release-key | --release-key | -textfile | --textfile)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	-root | --root)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0
		;;
	-kernel | --kernel)
		local root mods
		root=$(_zfsinstall_root)
		mods=$(cd "${root%/}/lib/modules" 2>/dev/null && ls)
		mapfile -t COMPREPLY < <(compgen -W "$mods" -- "$cur")
		return 0
		;;
	-log-format | --log-format)
		mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur")
		return 0
		;;
	-log-level | --log-level)
		mapfile -t COMPREPLY < <(compgen -W "debug info warning error" -- "$cur")
		return 0
		;;
	-dnf-arg | --dnf-arg)
		return 0
		;;
	esac
	if [ "$cmd" = recipes ]; then
		[ "$COMP_CWORD" -eq 2 ] && mapfile -t COMPREPLY < <(compgen -W "$(_zfsinstall_run recipes)" -- "$cur")
		return 0
	fi
	case $cur in
	-*)
		local opts
		opts=$(_zfsinstall_options "$cmd")
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		if [ ${#COMPREPLY[@]} -eq 0 ] && [ "${cur#--}" = "$cur" ]; then
			# "-detailed-exitcode" style: one dash works too.
			mapfile -t COMPREPLY < <(compgen -W "${opts//--/-}" -- "$cur")
		fi
		;;
	*)
		# apply PLANFILE
		if [ "$cmd" = apply ]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		;;
	esac
	return 0
}

complete -F _zfsinstall zfsinstall
