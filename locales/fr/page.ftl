# Les pages de Sauve en français : ce que le serveur affiche. Les messages du
# script sont dans script.ftl. Chaque identifiant existe aussi dans
# en/page.ftl (tests/it/i18n.rs).

## Page et en-tête
page-title = Sauvegardes · Sauve
login-title = Connexion · Sauve
heading = Sauvegardes
skip-to-jobs = Aller aux tâches
language = Langue
signed-in-as = Connecté en tant que { $user } ({ $role })
role-admin = administrateur
role-viewer = lecteur
sign-out = Se déconnecter
user-name = Nom d’utilisateur
password = Mot de passe
sign-in = Se connecter

## Les tâches d’un coup d’œil
jobs = Tâches
no-jobs-create = Aucune tâche pour l’instant : créez-en une ci-dessous.
no-jobs = Aucune tâche pour l’instant.
status-healthy = En bonne santé
status-failing = { $failures ->
    [one] En échec depuis le { $since } ({ $failures } exécution échouée)
   *[other] En échec depuis le { $since } ({ $failures } exécutions échouées)
}
status-stale = En retard depuis le { $since } : aucune sauvegarde enregistrée à temps
status-never = Jamais réussie
strip-caption = 30 derniers jours
strip-as-table = Afficher sous forme de tableau
strip-summary = { $days } derniers jours : { $ok ->
    [one] { $ok } jour
   *[other] { $ok } jours
} où tout a été sauvegardé, { $partial } en partie en échec, { $failed } en échec, { $none } sans sauvegarde lancée
outcome-none = aucune sauvegarde lancée
outcome-succeeded = réussie
outcome-partial = en partie en échec
outcome-failed = en échec
day-tip = { $day } : { $outcome } ({ $n })
strip-no-runs = Aucune sauvegarde lancée ces 30 derniers jours.
col-day = Jour (UTC)
col-outcome = Résultat
col-succeeded = Réussies
col-partial = Partielles
col-failed = Échouées
spark-size = Taille des { $n } dernières sauvegardes : de { $min } à { $max }, la plus récente { $last }
spark-duration = Durée des { $n } dernières sauvegardes : de { $min } à { $max }, la plus récente { $last }
spark-size-caption = Taille
spark-duration-caption = Durée
source = Source
destinations = Destinations
schedule = Planification
next-run = Prochaine exécution
last-run = Dernière exécution
last-good = Dernière sauvegarde réussie
older-than-allowed = plus ancienne que ne le permet la planification
stale-after = en retard après { $span } sans sauvegarde
proven = Restauration prouvée
notifies = Notifie
no-channel = aucun canal propre
send-test = Envoyer un test
send-test-label = Envoyer un test à { $channel }
retention = Rétention
backup-now = Créer une sauvegarde
edit-job = Modifier la tâche
prune-now = Appliquer la rétention
never = jamais
run-ago = { $state } { $ago }

## Temps
ago-now = à l’instant
at-detail = { $when } : { $detail }
ago-minutes = il y a { $n } min
ago-hours = il y a { $n } h
ago-days = { $n ->
    [one] il y a { $n } jour
   *[other] il y a { $n } jours
}
span-seconds = { $n } s
span-minutes = { $n } min
span-hours = { $n } h
span-hours-minutes = { $h } h { $m } min
span-days = { $n ->
    [one] { $n } jour
   *[other] { $n } jours
}

## Les planifications en mots
only-on-demand = uniquement à la demande
sched-daily = tous les jours à { $time } ({ $tz })
sched-weekly = chaque { $days } à { $time } ({ $tz })
sched-monthly = le { $days } de chaque mois à { $time } ({ $tz })
sched-last-day = dernier jour
sched-every-hours = { $n ->
    [one] toutes les heures
   *[other] toutes les { $n } heures
}
sched-every-minutes = { $n ->
    [one] toutes les minutes
   *[other] toutes les { $n } minutes
}
sched-every-seconds = { $n ->
    [one] toutes les secondes
   *[other] toutes les { $n } secondes
}
sched-cron = { $words } ({ $tz })
sched-cron-expr = cron « { $expr } »
list-and = { $rest } et { $last }
weekday-1 = lundi
weekday-2 = mardi
weekday-3 = mercredi
weekday-4 = jeudi
weekday-5 = vendredi
weekday-6 = samedi
weekday-7 = dimanche
weekday-short-1 = lun
weekday-short-2 = mar
weekday-short-3 = mer
weekday-short-4 = jeu
weekday-short-5 = ven
weekday-short-6 = sam
weekday-short-7 = dim

## L’éditeur de planification
edit-schedule = Modifier la planification
frequency = Fréquence
freq-none = Uniquement à la demande
freq-daily = Tous les jours
freq-weekly = Toutes les semaines
freq-monthly = Tous les mois
freq-every = Toutes les N heures
freq-cron = Personnalisée (cron)
time = Heure
weekdays = Jours de la semaine
days-of-month = Jours du mois
days-of-month-example = 1,15 ou last
every = Toutes les
hours = heures
cron-expression = Expression cron
time-zone = Fuseau horaire
next-runs = Prochaines exécutions :
save-schedule = Enregistrer la planification

## Le formulaire de tâche
create-job = Créer une tâche
name = Nom
test-connection = Tester la connexion
destinations-per-line = Destinations, une par ligne
test-destinations = Tester les destinations
recipients = Chiffrer pour ces clés publiques age, une par ligne (facultatif)
notify-per-line = Notifier, un canal par ligne (facultatif)
notify-hint = Prévenu une fois quand la tâche commence à échouer, puis chaque jour tant qu’elle échoue, et quand elle refonctionne ; aussi quand aucune sauvegarde n’a été enregistrée depuis trop longtemps. Identifiants par nom : slack://secret:NOM.
test-channels = Envoyer un test à chacun
max-age = Alerter sans sauvegarde depuis (facultatif)
schedule-optional = Planification (facultatif)
retention-about = Quelles sauvegardes garder, selon les règles de restic : une sauvegarde gardée par une règle reste. Laissez une règle vide pour l’omettre.
retention-none = Aucune règle : toutes les sauvegardes sont gardées.
more-rules = Plus de règles
plan-title = Ce que ferait cette politique
plan-no-backups = Aucune sauvegarde pour l’instant : rien ne serait supprimé.
create-job-submit = Créer la tâche
cancel = Annuler

## Les règles de rétention (les champs du formulaire)
example = ex. { $value }
rule-keep_last = Garder les dernières
rule-keep_last-hint = keep_last : les N sauvegardes les plus récentes ; un nombre ou unlimited
rule-keep_daily = Garder par jour
rule-keep_daily-hint = keep_daily : la plus récente de chacun des N derniers jours qui en ont une ; un nombre ou unlimited
rule-keep_weekly = Garder par semaine
rule-keep_weekly-hint = keep_weekly : la plus récente de chacune des N dernières semaines ISO (du lundi au dimanche) ; un nombre ou unlimited
rule-keep_monthly = Garder par mois
rule-keep_monthly-hint = keep_monthly : la plus récente de chacun des N derniers mois ; un nombre ou unlimited
rule-keep_yearly = Garder par an
rule-keep_yearly-hint = keep_yearly : la plus récente de chacune des N dernières années ; un nombre ou unlimited
rule-keep_within = Garder sur
rule-keep_within-hint = keep_within : toutes les sauvegardes faites dans ce délai avant la plus récente, ex. 30d, 1y2m (y ans, m mois, d jours, h heures)
rule-min_keep = Toujours garder au moins
rule-min_keep-hint = min_keep : des sauvegardes valides gardées quoi que disent les règles ; un nombre (1 par défaut)
rule-trash_for = Corbeille pendant
rule-trash_for-hint = trash_for : combien de temps une sauvegarde retirée reste restaurable avant d’être purgée, ex. 48h, 7d (24h par défaut ; 0s purge aussitôt)
rule-keep_hourly = Garder par heure
rule-keep_hourly-hint = keep_hourly : la plus récente de chacune des N dernières heures qui en ont une ; un nombre ou unlimited
rule-keep_within_hourly = Garder par heure sur
rule-keep_within_hourly-hint = keep_within_hourly : la plus récente de chaque heure dans ce délai avant la plus récente, ex. 2d
rule-keep_within_daily = Garder par jour sur
rule-keep_within_daily-hint = keep_within_daily : la plus récente de chaque jour dans ce délai avant la plus récente, ex. 30d
rule-keep_within_weekly = Garder par semaine sur
rule-keep_within_weekly-hint = keep_within_weekly : la plus récente de chaque semaine ISO dans ce délai avant la plus récente, ex. 3m
rule-keep_within_monthly = Garder par mois sur
rule-keep_within_monthly-hint = keep_within_monthly : la plus récente de chaque mois dans ce délai avant la plus récente, ex. 1y
rule-keep_within_yearly = Garder par an sur
rule-keep_within_yearly-hint = keep_within_yearly : la plus récente de chaque année dans ce délai avant la plus récente, ex. 5y

## Une politique de rétention en mots
ret-every = Garde toutes les sauvegardes
ret-keeps = Garde { $rules }
ret-last = les { $n } dernières
ret-last-all = toutes
ret-hourly = { $n } par heure
ret-hourly-forever = une par heure pour toujours
ret-daily = { $n } par jour
ret-daily-forever = une par jour pour toujours
ret-weekly = { $n } par semaine
ret-weekly-forever = une par semaine pour toujours
ret-monthly = { $n } par mois
ret-monthly-forever = une par mois pour toujours
ret-yearly = { $n } par an
ret-yearly-forever = une par an pour toujours
ret-within = toutes celles des { $span } précédant la plus récente
ret-within-hourly = une par heure sur les { $span } précédant la plus récente
ret-within-daily = une par jour sur les { $span } précédant la plus récente
ret-within-weekly = une par semaine sur les { $span } précédant la plus récente
ret-within-monthly = une par mois sur les { $span } précédant la plus récente
ret-within-yearly = une par an sur les { $span } précédant la plus récente
ret-min-keep = toujours au moins { $n }
ret-trash = corbeille { $span }
ret-no-trash = pas de corbeille : purgées aussitôt
ret-and-trash = { $keeps } ; { $trash }

## Preuves
proof-newest = datant de { $age } (sauvegarde { $id } : { $how })
proof-verified = vérifiée { $ago }
proof-tested = restaurée à l’essai { $ago }
proof-files = { $n ->
    [one] { $n } fichier
   *[other] { $n } fichiers
}
proof-tables = { $tables ->
    [one] { $tables } table
   *[other] { $tables } tables
}, { $rows ->
    [one] { $rows } ligne
   *[other] { $rows } lignes
}
proof-none-tested = aucune pour l’instant : aucune sauvegarde à la fois vérifiée et restaurée à l’essai
proof-none = aucune pour l’instant : aucune sauvegarde vérifiée
proof-under-a-minute = moins d’une minute
last-check = Dernier contrôle : { $words }
check-verify = vérification
check-test-restore = restauration d’essai
check-succeeded = { $what } réussie { $ago }
check-ended = { $what } : { $state } { $ago }
check-ended-error = { $what } : { $state } { $ago } : { $error }
badge-verified = vérifiée
badge-damaged = endommagée
badge-test-restored = restaurée à l’essai
badge-test-failed = essai échoué
test-did-not-pass = n’a pas réussi

## Stockage
storage = Stockage
storage-about = Ce que contient chaque destination : les sauvegardes actives et la corbeille, jusqu’à la purge. L’évolution porte sur les 90 derniers jours.
storage-empty = Rien n’est encore stocké.
col-destination = Destination
col-backups = Sauvegardes
col-stored = Stocké
col-growth = 90 jours
col-next-removals = Ce que la rétention retire ensuite
growth-words = { $change } en 90 jours
growth-spark = Stocké à cette destination sur 90 jours : de { $min } à { $max }, aujourd’hui { $last }
job-deleted = { $job } (tâche supprimée)
next-removals = { $job } ({ $n ->
    [one] { $n } sauvegarde
   *[other] { $n } sauvegardes
}, { $size })

## Sauvegardes
backups = Sauvegardes
no-backups = Aucune sauvegarde pour l’instant.
col-created = Créée le
col-job = Tâche
col-size = Taille
col-actions = Actions
download = Télécharger
verify = Vérifier
test-restore = Restauration d’essai
restore = Restaurer
delete = Supprimer

## Corbeille
trash = Corbeille
trash-about = Les sauvegardes retirées par la rétention. Chacune reste stockée et restaurable jusqu’à ce que le premier nettoyage après son délai de grâce la purge.
trash-empty = La corbeille est vide.
col-removed-at = Retirée le
col-purged-after = Purgée après
col-reason = Raison
col-purge-error = Dernière erreur de purge
at-next-prune = au prochain nettoyage
undelete = Récupérer
undelete-label = Récupérer la sauvegarde de { $job } faite le { $created }
more-trash = Les { $n } plus récemment retirées sont affichées ; sauve backup list --trash les liste toutes.

## Notifications
notifications = Notifications
failing = En échec :
last-tried = dernier essai { $when }
nothing-sent = Rien n’a encore été envoyé.
col-event = Événement
col-channel = Canal
col-state = État
col-attempts = Tentatives
col-answer = Réponse
delivery-pending = en attente
delivery-sending = en cours d’envoi
delivery-sent = envoyée
delivery-failed = en échec

## Historique
history = Historique
all = toutes
col-kind = Type
filter = Filtrer
no-runs = Aucune exécution pour l’instant.
col-status = Statut
col-trigger = Déclencheur
col-started = Démarrée le
col-duration = Durée
col-log = Journal
show = Afficher
newest-runs = Exécutions les plus récentes
older-runs = Exécutions plus anciennes
state-queued = en file d’attente
state-running = en cours
state-succeeded = réussie
state-partial = partielle
state-failed = en échec
state-cancelled = annulée
kind-backup = sauvegarde
kind-restore = restauration
kind-verify = vérification
kind-test_restore = restauration d’essai
kind-prune = nettoyage
trigger-schedule = planification
trigger-catch_up = rattrapage
trigger-manual = manuel
trigger-api = API
trigger-cron = cron
trigger-retry = nouvelle tentative
