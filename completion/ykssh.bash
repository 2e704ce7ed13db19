# SPDX-License-Identifier: BSD-2-Clause
# bash completion for ykssh(1).  Commands and options are those of
# 'ykssh --help' and 'ykssh COMMAND --help' (tests/docs/check-completion.sh
# keeps them in step).

_ykssh()
{
	local cur prev words cword cmd i
	_init_completion || return

	local global="--json --verbose --quiet --help --version -v -q -h -V"
	local commands="enroll list recover register revoke rotate verify"
	commands="$commands config demo doctor help version"

	cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done

	case $prev in
	--output|--attestation|--challenge|--token-file|--cacert|--config|\
	--identity-file)
		_filedir
		return ;;
	--trust-dir)
		_filedir -d
		return ;;
	--device)
		COMPREPLY=($(compgen -W "$(ls /dev/hidraw* 2>/dev/null)" \
		    -- "$cur"))
		return ;;
	--type)
		COMPREPLY=($(compgen -W "ed25519-sk ecdsa-sk" -- "$cur"))
		return ;;
	--slot)
		COMPREPLY=($(compgen -W "9a 9c 9d 9e" -- "$cur"))
		return ;;
	--algorithm)
		COMPREPLY=($(compgen -W "eccp256 eccp384 rsa2048" -- "$cur"))
		return ;;
	--pin-policy)
		COMPREPLY=($(compgen -W "once always never default" -- "$cur"))
		return ;;
	--touch-policy)
		COMPREPLY=($(compgen -W "cached always never default" \
		    -- "$cur"))
		return ;;
	--pkcs11-provider)
		_filedir so
		return ;;
	--label|--application|--user|--comment|--host|--hostname|--port|\
	--persist|--expires|--bitbucket-url|--api-url|--delete|--key-id)
		return ;;
	esac

	case $cmd in
	"")
		COMPREPLY=($(compgen -W "$commands $global" -- "$cur")) ;;
	enroll)
		COMPREPLY=($(compgen -W "--type --resident --verify-required
		    --no-touch-required --label --application --user --comment
		    --output --attestation --challenge --device --force
		    --no-register --no-config --host --persist --expires
		    --piv --slot --algorithm --pin-policy --touch-policy
		    --reader --setup --backup --trust-dir --allow-unattested
		    --bitbucket-url --api-url --cacert --token-file
		    $global" -- "$cur")) ;;
	register)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--label --expires --list
			    --delete --bitbucket-url --api-url --cacert
			    --token-file $global" -- "$cur"))
		else
			_filedir pub
		fi ;;
	list)
		COMPREPLY=($(compgen -W "--token --device --piv --reader
		    --no-bitbucket --bitbucket-url --api-url --cacert --token-file
		    $global" -- "$cur")) ;;
	doctor)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--device --offline
			    --no-bitbucket --bitbucket-url --api-url --cacert
			    --token-file $global" -- "$cur"))
		else
			_known_hosts_real -- "$cur"
		fi ;;
	recover)
		COMPREPLY=($(compgen -W "--device --piv --slot --reader
		    --comment --force --no-register --no-config --bitbucket-url --api-url
		    --cacert --token-file $global" -- "$cur")) ;;
	revoke)
		COMPREPLY=($(compgen -W "--on-token --device --piv --reader
		    --no-bitbucket --force --bitbucket-url --api-url --cacert --token-file
		    $global" -- "$cur")) ;;
	rotate)
		case $prev in
		--type)
			COMPREPLY=($(compgen -W "ed25519-sk ecdsa-sk" -- "$cur"))
			return ;;
		--slot)
			COMPREPLY=($(compgen -W "9a 9c 9d 9e 82 83 84 85 86 87 88
			    89 8a 8b 8c 8d 8e 8f 90 91 92 93 94 95" -- "$cur"))
			return ;;
		esac
		COMPREPLY=($(compgen -W "--type --resident --no-resident
		    --verify-required --no-verify-required --touch-required
		    --no-touch-required --user --expires --no-expires
		    --on-token --device --no-check --check-user --abort
		    --trust-dir --allow-unattested --slot --reader
		    --bitbucket-url --api-url --cacert --token-file
		    $global" -- "$cur")) ;;
	verify)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--trust-dir --attestation
			    --challenge $global" -- "$cur"))
		else
			_filedir pub
		fi ;;
	config)
		if [[ $cword -eq $((i + 1)) ]]; then
			COMPREPLY=($(compgen -W "show apply remove" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--config --label --key-id
			    --host --hostname --port --user --identity-file
			    --pkcs11-provider --persist --dry-run --force
			    --no-backup --no-ssh-check $global" -- "$cur"))
		fi ;;
	demo)
		COMPREPLY=($(compgen -W "--piv --keep $global" -- "$cur")) ;;
	help)
		COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
	*)
		COMPREPLY=($(compgen -W "$global" -- "$cur")) ;;
	esac
}
complete -F _ykssh ykssh
