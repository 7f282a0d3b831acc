# bash completion for lotrace(8)                      -*- shell-script -*-
# SPDX-License-Identifier: MIT
# Installed as $(PREFIX)/share/bash-completion/completions/lotrace. Keep the
# options in step with `lotrace --help` (tests/setup/install.sh checks).

_lotrace()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# --opt=value: bash splits it into "--opt" "=" "value"
	if [ "$cur" = "=" ]; then
		cur=
	elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	case $prev in
	--backend)
		COMPREPLY=($(compgen -W 'auto ebpf pcap' -- "$cur"))
		return ;;
	--format)
		COMPREPLY=($(compgen -W 'text json zeek markdown' -- "$cur"))
		return ;;
	--sort)
		COMPREPLY=($(compgen -W 'end start' -- "$cur"))
		return ;;
	--attach)
		COMPREPLY=($(compgen -W 'auto tcx tc' -- "$cur"))
		return ;;
	--netns)
		COMPREPLY=($(compgen -W "host $(ls /run/netns 2>/dev/null)" -- "$cur"))
		return ;;
	--speed)
		COMPREPLY=($(compgen -W 'instant 1 10 100' -- "$cur"))
		return ;;
	-r | --read | -w | --write | --report | --metrics-file)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-Z | --relinquish-privileges)
		COMPREPLY=($(compgen -u -- "$cur"))
		return ;;
	-i | --interface)
		COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		return ;;
	-p | --port | -c | --count | --duration | --max-flows | --ring-size | --metrics | --metrics-interval)
		return ;; # a value of the user's
	esac
	case $cur in
	-*)
		COMPREPLY=($(compgen -W '-p --port -r --read -i --interface
			--backend --attach --netns -w --write -c --count --duration --json
			--format --report --no-payload -q --quiet --sort -n -t -tt -ttt -tttt -ttttt --no-tui --tui --speed --max-flows
			--ring-size --demo --metrics --metrics-file --metrics-interval
			-Z --relinquish-privileges -v --verbose -h --help -V --version' -- "$cur")) ;;
	*)
		[ "$COMP_CWORD" = 1 ] && COMPREPLY=($(compgen -W 'report' -- "$cur")) ;;
	esac
}
complete -F _lotrace lotrace
