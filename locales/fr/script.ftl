# Messages of assets/app.js in French: the same ids, in the same order, as
# locales/en/script.ftl (see its header). One line each.

## Runs in progress (live progress of a backup, restore or prune)

js-queued = En file d’attente…
js-running = En cours…
js-starting = Démarrage…
js-prefixed = { $prefix } : { $text }
js-run-succeeded-stored = Réussie : { $size } stockés.
js-run-succeeded-retention = Réussie : rétention appliquée.
js-run-partial = Partielle : { $error }
js-run-failed = Échec : { $error }
js-run-cancelled = Annulée : { $error }
js-run-ended = { $state } : { $error }
js-progress-restore = Restauration… { $secs } s
js-progress-verify = Vérification… { $secs } s
js-progress-test-restore = Restauration d’essai… { $secs } s
js-progress-prune = Application de la rétention… { $secs } s
js-progress-other = En cours… { $secs } s
js-progress-backup = Sauvegarde en cours : { $read } lus ({ $rate }/s), { $stored } stockés
js-progress-backup-eta = Sauvegarde en cours : { $read } lus ({ $rate }/s), { $stored } stockés, encore environ { $eta } s

## Errors the script writes when the server gave no message

js-failed-status = Échec ({ $status })
js-failed-message = Échec : { $message }

## Schedule editor

js-schedule-invalid = planification non valide
js-schedule-not-saved = enregistrement impossible
js-schedule-on-demand = uniquement à la demande

## Job form

js-job-create = Créer la tâche
js-job-save = Enregistrer la tâche
js-job-create-title = Créer une tâche
js-job-edit-title = Modifier la tâche { $name }
js-job-dest-own-rules = Destinations avec leurs propres règles, conservées telles quelles (ces règles-ci ne s’y appliquent pas) : { $uris }.
js-source-testing = Test en cours…
js-source-ok = OK : { $kind } { $name }
js-source-ok-server = OK : { $kind } { $name } (serveur { $version })
js-destinations-none = Saisissez d’abord une destination, une par ligne.
js-destination-testing = test en cours…
js-destination-works = fonctionne : { $steps }
js-destination-step = { $op } { $ms } ms
js-channels-none = Saisissez d’abord un canal, un par ligne.
js-channel-sending = envoi en cours…
js-channel-sent = envoyé : réponse { $status } en { $ms } ms
js-channel-sent-ok = envoyé : réponse ok en { $ms } ms

## Retention plan in the job form

js-plan-idle-edit = Modifiez une règle pour voir quelles sauvegardes elle conserverait et lesquelles elle placerait dans la corbeille.
js-plan-no-backups = Aucune sauvegarde pour l’instant : rien ne serait supprimé.
js-plan-no-rules = Aucune règle : toutes les sauvegardes sont conservées ({ $kept }).
js-plan-summary = Seraient conservées : { $kept } ; iraient à la corbeille : { $removed }.
js-plan-summary-across = Sur { $destinations } destinations, seraient conservées : { $kept } ; iraient à la corbeille : { $removed }.
js-plan-purged-at-once = Avec trash_for 0s, elles sont purgées aussitôt : aucune annulation possible.
js-plan-restorable-for = Elles restent restaurables pendant { $grace }, puis sont purgées.
js-plan-restorable-default = Elles restent restaurables pendant 24h (la valeur par défaut), puis sont purgées.
js-plan-refused-everywhere = Refusé sur toutes les destinations : rien n’y est supprimé.
js-plan-refused-some = Refusé sur { $refused } des { $destinations } destinations : rien n’y est supprimé.
js-plan-counts = Conservées : { $kept } ; iraient à la corbeille : { $removed }.
js-plan-refused = Refusé : { $reason }. Rien ne serait supprimé ici.
js-plan-list = { $title } ({ $count })
js-plan-kept = Conservées
js-plan-to-trash = Vers la corbeille
js-plan-not-counted = Non comptées
js-plan-not-counted-hint = Non comptées : la base de métadonnées les liste, mais le stockage ne les contient pas en entier ; la politique ne les compte donc pas et ne les supprime pas.
js-plan-empty-destination = Aucune sauvegarde ici pour l’instant : rien ne serait supprimé.
js-planning = Calcul du plan…
js-plan-invalid = Cette politique n’est pas encore valide : voyez le message à côté de la règle.
js-plan-failed = Impossible de calculer le plan : { $message }
js-plan-failed-status = Impossible de calculer le plan : échec ({ $status })

## Apply retention now

js-prune-asking = Demande en cours…
js-prune-queued = Exécution { $id } en file d’attente
js-prune-already-queued = Déjà en file d’attente : exécution { $id }

## Trash

js-undelete-running = Récupération…
js-undelete-done = Récupérée : c’est de nouveau une sauvegarde active (listée sous Sauvegardes après un rechargement). La prochaine application de la rétention la remettra dans la corbeille si la politique ne la conserve pas : modifiez la rétention de la tâche pour la garder.

## Backups: verify, test restore, restore, delete

js-verify-running = Vérification…
js-verify-good = Intègre : { $format }
js-test-restore-running = Restauration d’essai dans une cible temporaire…
js-test-restore-files-one = { $count } fichier
js-test-restore-files-other = { $count } fichiers
js-test-restore-tables-one = { $count } table
js-test-restore-tables-other = { $count } tables
js-test-restore-rows-one = { $count } ligne
js-test-restore-rows-other = { $count } lignes
js-test-restore-checks-one = { $count } vérification réussie
js-test-restore-checks-other = { $count } vérifications réussies
js-test-restore-dropped = Restauration possible : { $found } ({ $secs } s ; cible temporaire supprimée)
js-test-restore-not-dropped = Restauration possible : { $found } ({ $secs } s ; cible temporaire PAS encore supprimée)
js-restore-prompt-target = Restaurer vers (une nouvelle URI de base de données, un fichier ou un répertoire) :
js-restore-prompt-confirm = Saisissez à nouveau la cible pour confirmer la restauration vers { $target } :
js-restore-mismatch = Rien n’a été restauré : la confirmation ne correspond pas.
js-restore-refused = Refusé : { $message }
js-delete-confirm = Supprimer cette sauvegarde du stockage ? Cette action est irréversible.

## History

js-log-empty = (vide)

## Storage: what retention would remove now

js-removes-nothing = La rétention ne supprime rien pour l’instant : toutes les sauvegardes de cette destination sont conservées.
js-removals-count-one = { $count } sauvegarde serait placée dans la corbeille.
js-removals-count-other = { $count } sauvegardes seraient placées dans la corbeille.
js-removals-no-destination = Cette destination ne figure pas dans le plan de la tâche.

## Sign in

js-sign-in-failed = Échec de la connexion ({ $status })
